/**
 * Wire layouts of the QEMU program's calls (qemu_protocol.x), field by field, and the call going
 * out and its reply coming back over a connection shared with REMOTE.
 */
import { ProtocolError } from "../errors";
import { callProcedure } from "../client/call";
import { decode, encode } from "../xdr";
import { fakeConnection } from "../../test/support/fake-daemon";
import { hex, packet } from "../../test/support/packets";
import { MessageType } from "./header";
import {
  DomainQemuAgentCommandTimeout,
  DomainQemuMonitorCommandFlags,
  QemuProcedures,
  QemuProgram,
} from "./qemu-program";
import { RemoteProcedures, RemoteProgram } from "./remote";

const dom = { name: "vm1", uuid: Buffer.from("000102030405060708090a0b0c0d0e0f", "hex"), id: 3 };
const ping = '{"execute":"guest-ping"}';

const domBytes = `
  00000003 766d3100                      // dom.name: "vm1" + 1 pad byte
  00010203 04050607 08090a0b 0c0d0e0f    // dom.uuid: 16 raw bytes
  00000003                               // dom.id: 3
`;

describe("the QEMU program", () => {
  it("is program 0x20008087, version 1", () => {
    expect(QemuProgram).toEqual({ name: "QEMU", number: 0x20008087, version: 1 });
  });

  it("numbers its procedures as qemu_protocol.x does", () => {
    expect(QemuProcedures.QemuDomainMonitorCommand.number).toBe(1);
    expect(QemuProcedures.QemuDomainAgentCommand.number).toBe(3);
  });

  it("has libvirt-qemu.h's timeout values and monitor flags", () => {
    expect(DomainQemuAgentCommandTimeout).toMatchObject({
      BLOCK: -2,
      DEFAULT: -1,
      NOWAIT: 0,
      SHUTDOWN: 60,
    });
    expect(DomainQemuMonitorCommandFlags.HMP).toBe(1);
  });

  it("encodes AGENT_COMMAND's args as dom, cmd, a signed timeout and flags", () => {
    const args = { dom, cmd: ping, timeout: DomainQemuAgentCommandTimeout.DEFAULT, flags: 0 };
    expect(encode(QemuProcedures.QemuDomainAgentCommand.args, args)).toEqual(
      hex(`
        ${domBytes}
        00000018                             // cmd: 24 bytes, no padding
        7b226578 65637574 65223a22 67756573 742d7069 6e67227d   // {"execute":"guest-ping"}
        ffffffff                             // timeout: -1 (DEFAULT), a signed int
        00000000                             // flags
      `),
    );
  });

  it("decodes AGENT_COMMAND's result as an optional string", () => {
    const ret = QemuProcedures.QemuDomainAgentCommand.ret;
    const present = hex(`
      00000001                               // result: present
      0000000d 7b227265 7475726e 223a7b7d 7d000000   // {"return":{}} + 3 pad bytes
    `);
    expect(decode(ret, present)).toEqual({ result: '{"return":{}}' });
    expect(decode(ret, hex("00000000 // result: absent"))).toEqual({ result: null });
  });

  it("encodes MONITOR_COMMAND's args as dom, cmd and flags, and its result is a string", () => {
    const args = { dom, cmd: "info status", flags: DomainQemuMonitorCommandFlags.HMP };
    expect(encode(QemuProcedures.QemuDomainMonitorCommand.args, args)).toEqual(
      hex(`
        ${domBytes}
        0000000b 696e666f 20737461 74757300  // cmd: "info status" + 1 pad byte
        00000001                             // flags: HMP
      `),
    );
    const result = hex('00000002 6f6b0000 // result: "ok" + 2 pad bytes');
    expect(decode(QemuProcedures.QemuDomainMonitorCommand.ret, result)).toEqual({ result: "ok" });
  });
});

describe("a QEMU call on a connection shared with REMOTE", () => {
  const ret = (result: string) => encode(QemuProcedures.QemuDomainAgentCommand.ret, { result });
  const args = { dom, cmd: ping, timeout: 5, flags: 0 };

  it("goes out under the QEMU program and gets its reply by serial among REMOTE replies", async () => {
    const { connection, daemon } = fakeConnection();
    const hostname = callProcedure(connection, RemoteProcedures.ConnectGetHostname, undefined);
    const agent = callProcedure(connection, QemuProcedures.QemuDomainAgentCommand, args);
    const [remoteCall, qemuCall] = await daemon.nextCalls(2);
    expect(remoteCall!.header).toMatchObject({ program: RemoteProgram.number, serial: 0 });
    expect(qemuCall!.header).toMatchObject({
      program: 0x20008087,
      version: 1,
      procedure: 3,
      type: MessageType.CALL,
      serial: 1,
    });
    expect(qemuCall!.payload).toEqual(encode(QemuProcedures.QemuDomainAgentCommand.args, args));
    daemon.send(packet({ program: QemuProgram.number, procedure: 3, serial: 1 }, ret("{}")));
    daemon.send(
      packet(
        { procedure: 59, serial: 0 },
        encode(RemoteProcedures.ConnectGetHostname.ret, { hostname: "kvm1" }),
      ),
    );
    await expect(agent).resolves.toEqual({ result: "{}" });
    await expect(hostname).resolves.toEqual({ hostname: "kvm1" });
  });

  it("refuses a reply to a QEMU call that names the REMOTE program", async () => {
    const { connection, daemon } = fakeConnection();
    const agent = callProcedure(connection, QemuProcedures.QemuDomainAgentCommand, args);
    await daemon.nextCalls(1);
    daemon.send(packet({ program: RemoteProgram.number, procedure: 3, serial: 0 }, ret("{}")));
    await expect(agent).rejects.toBeInstanceOf(ProtocolError);
  });
});
