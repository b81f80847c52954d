import { Program } from "../program";

/** `REMOTE_PROGRAM` (remote_protocol.x), the main libvirt API. */
export const RemoteProgram: Program = { name: "REMOTE", number: 0x20008086, version: 1 };
