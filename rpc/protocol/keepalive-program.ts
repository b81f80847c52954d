/**
 * The keepalive program (src/rpc/virkeepaliveprotocol.x). Both procedures travel as MESSAGE
 * packets with status OK, serial 0 and an empty payload; whoever receives a PING answers PONG.
 */
import { Program } from "./program";

/** `KEEPALIVE_PROGRAM`, ASCII "keep". */
export const KeepaliveProgram: Program = { name: "KEEPALIVE", number: 0x6b656570, version: 1 };

export enum KeepaliveProcedure {
  PING = 1,
  PONG = 2,
}
