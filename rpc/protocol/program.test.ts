import { ProtocolError } from "../errors";
import { hex } from "../../test/support/packets";
import { KeepaliveProgram } from "./keepalive-program";
import { PacketDecoder } from "./packet";
import { checkProgramVersion } from "./program";
import { RemoteProgram } from "./remote";

/** The header of the one packet in `bytes`. */
const headerOf = (bytes: Buffer) => new PacketDecoder().push(bytes)[0]!.header;

describe("checkProgramVersion", () => {
  it("accepts a REMOTE reply and a keepalive PONG of version 1", () => {
    // len 28 · REMOTE · vers 1 · proc 59 · REPLY · serial 7 · OK
    const reply = hex("0000001c 20008086 00000001 0000003b 00000001 00000007 00000000");
    // len 28 · KEEPALIVE ("keep") · vers 1 · proc 2 (PONG) · MESSAGE · serial 0 · OK
    const pong = hex("0000001c 6b656570 00000001 00000002 00000002 00000000 00000000");
    expect(() => checkProgramVersion(headerOf(reply), RemoteProgram)).not.toThrow();
    expect(() => checkProgramVersion(headerOf(pong), KeepaliveProgram)).not.toThrow();
  });

  it("refuses a REMOTE reply of version 2 with a ProtocolError naming both versions", () => {
    const reply = hex("0000001c 20008086 00000002 0000003b 00000001 00000007 00000000");
    const check = () => checkProgramVersion(headerOf(reply), RemoteProgram);
    expect(check).toThrow(ProtocolError);
    expect(check).toThrow(
      "REPLY of program REMOTE has protocol version 2; virtwire speaks REMOTE version 1",
    );
  });

  it("refuses a keepalive PING of version 0", () => {
    const ping = hex("0000001c 6b656570 00000000 00000001 00000002 00000000 00000000");
    expect(() => checkProgramVersion(headerOf(ping), KeepaliveProgram)).toThrow(
      "MESSAGE of program KEEPALIVE has protocol version 0; virtwire speaks KEEPALIVE version 1",
    );
  });
});
