import { Duplex } from "node:stream";
import {
  ConnectionClosedError,
  LibvirtError,
  ProtocolError,
  XdrError,
  isNotFound,
} from "../errors";
import { ErrorCode, ErrorDomain } from "../protocol/error-codes";
import { MessageStatus, MessageType } from "../protocol/header";
import { Packet, encodePacket } from "../protocol/packet";
import { RemoteProcedures, RemoteProgram } from "../protocol/remote";
import { encode, string, struct, uhyper } from "../xdr";
import { fakeConnection } from "../../test/support/fake-daemon";
import { errorReply, hex, packet } from "../../test/support/packets";
import { callProcedure } from "./call";
import { Connection } from "./connection";

function setup() {
  return fakeConnection();
}

const LibVersion = struct({ lib_ver: uhyper });
const Hostname = struct({ hostname: string(100) });

describe("Connection", () => {
  it("routes replies to their callers by serial, whatever their order", async () => {
    const { connection, daemon } = setup();
    const first = callProcedure(connection, RemoteProcedures.ConnectGetLibVersion, undefined);
    const second = callProcedure(connection, RemoteProcedures.ConnectGetHostname, undefined);
    const [a, b] = await daemon.nextCalls(2);
    expect(a!.header).toMatchObject({ type: MessageType.CALL, procedure: 157, serial: 0 });
    expect(b!.header).toMatchObject({ type: MessageType.CALL, procedure: 59, serial: 1 });
    daemon.send(packet({ procedure: 59, serial: 1 }, encode(Hostname, { hostname: "kvm1" })));
    daemon.send(packet({ procedure: 157, serial: 0 }, encode(LibVersion, { lib_ver: 9000000n })));
    await expect(second).resolves.toEqual({ hostname: "kvm1" });
    await expect(first).resolves.toEqual({ lib_ver: 9000000n });
    expect(connection.pendingCalls).toBe(0);
  });

  it("turns an error reply into a LibvirtError with libvirt's code, domain and message", async () => {
    const { connection, daemon } = setup();
    const lookup = callProcedure(connection, RemoteProcedures.DomainLookupByName, { name: "nope" });
    const [call] = await daemon.nextCalls(1);
    daemon.send(
      errorReply(
        { procedure: 23, serial: call!.header.serial },
        {
          code: ErrorCode.NO_DOMAIN,
          domain: ErrorDomain.QEMU,
          message: "Domain not found: no domain with matching name 'nope'",
        },
      ),
    );
    const error = await lookup.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LibvirtError);
    expect(error).toMatchObject({
      code: ErrorCode.NO_DOMAIN,
      domain: ErrorDomain.QEMU,
      codeName: "VIR_ERR_NO_DOMAIN",
      domainName: "VIR_FROM_QEMU",
      procedure: "DomainLookupByName",
      message: "Domain not found: no domain with matching name 'nope'",
    });
    expect(isNotFound(error)).toBe(true);
  });

  it("shows 'Unknown error' when the server sends no message", async () => {
    const { connection, daemon } = setup();
    const call = callProcedure(connection, RemoteProcedures.ConnectGetHostname, undefined);
    await daemon.nextCalls(1);
    daemon.send(errorReply({ procedure: 59, serial: 0 }, { code: 1, domain: 0, message: null }));
    await expect(call).rejects.toThrow("Unknown error");
  });

  it("refuses bad arguments before anything is sent", async () => {
    const { connection, daemon } = setup();
    await expect(
      callProcedure(connection, RemoteProcedures.DomainLookupByName, {
        name: 7 as unknown as string,
      }),
    ).rejects.toThrow(XdrError);
    expect(daemon.received).toHaveLength(0);
  });

  it("answers a keepalive PING with a PONG", async () => {
    const { daemon } = setup();
    daemon.send(hex("0000001c 6b656570 00000001 00000001 00000002 00000000 00000000"));
    const [pong] = await daemon.nextCalls(1);
    expect(pong!.header).toEqual({
      program: 0x6b656570,
      version: 1,
      procedure: 2,
      type: MessageType.MESSAGE,
      serial: 0,
      status: MessageStatus.OK,
    });
  });

  it.each([
    ["a length word below the header size", hex("00000010 00000000 00000000 00000000")],
    ["an oversize length word", hex("7fffffff 20008086")],
    ["an unknown message type", packet({ type: 42 as MessageType })],
    ["a reply nobody waits for", packet({ serial: 999 })],
    ["a CALL from the server", packet({ type: MessageType.CALL })],
    [
      "a reply of protocol version 2",
      // len 28 · REMOTE · vers 2 · proc 59 (CONNECT_GET_HOSTNAME) · REPLY · serial 0 · OK
      hex("0000001c 20008086 00000002 0000003b 00000001 00000000 00000000"),
    ],
    [
      "a keepalive PING of protocol version 2",
      hex("0000001c 6b656570 00000002 00000001 00000002 00000000 00000000"),
    ],
    [
      "stream data of protocol version 2",
      packet({ version: 2, type: MessageType.STREAM, status: MessageStatus.CONTINUE }),
    ],
  ])("fails pending calls with a ProtocolError on %s", async (_what, bytes) => {
    const { connection, daemon } = setup();
    const call = callProcedure(connection, RemoteProcedures.ConnectGetHostname, undefined);
    await daemon.nextCalls(1);
    daemon.send(bytes);
    await expect(call).rejects.toThrow(ProtocolError);
    expect(connection.closed).toBe(true);
    await expect(
      callProcedure(connection, RemoteProcedures.ConnectGetHostname, undefined),
    ).rejects.toThrow(ProtocolError);
  });

  it("fails a call whose reply payload does not decode, without a crash", async () => {
    const { connection, daemon } = setup();
    const call = callProcedure(connection, RemoteProcedures.ConnectGetHostname, undefined);
    await daemon.nextCalls(1);
    daemon.send(packet({ procedure: 59, serial: 0 }, hex("00000005 61626364")));
    await expect(call).rejects.toThrow(/malformed reply to ConnectGetHostname: truncated/);
  });

  it("fails pending calls with a ProtocolError when the server stops mid-message", async () => {
    const { connection, daemon, server } = setup();
    const call = callProcedure(connection, RemoteProcedures.ConnectGetHostname, undefined);
    await daemon.nextCalls(1);
    daemon.send(
      packet({ procedure: 59, serial: 0 }, encode(Hostname, { hostname: "kvm1" })).subarray(0, 30),
    );
    server.end();
    await expect(call).rejects.toThrow(/in the middle of a message/);
  });

  it("fails pending calls with ConnectionClosedError when the server hangs up", async () => {
    const { connection, daemon, server } = setup();
    const calls = [1, 2, 3].map(() =>
      callProcedure(connection, RemoteProcedures.ConnectGetHostname, undefined),
    );
    await daemon.nextCalls(3);
    server.end();
    for (const call of calls) await expect(call).rejects.toThrow(ConnectionClosedError);
  });

  it("names the program and both versions when a reply has the wrong one", async () => {
    const { connection, daemon } = setup();
    const call = callProcedure(connection, RemoteProcedures.ConnectGetHostname, undefined);
    await daemon.nextCalls(1);
    daemon.send(packet({ procedure: 59, serial: 0, version: 2 }));
    await expect(call).rejects.toThrow(
      "REPLY of program REMOTE has protocol version 2; virtwire speaks REMOTE version 1",
    );
  });

  it("fails the connection on an event of another version instead of handing it on", async () => {
    const { connection, daemon } = setup();
    const handler = jest.fn();
    connection.onMessage(RemoteProgram, handler);
    const closed = new Promise<Error>((resolve) => connection.once("closed", resolve));
    daemon.send(packet({ type: MessageType.MESSAGE, procedure: 318, serial: 1, version: 3 }));
    await expect(closed).resolves.toBeInstanceOf(ProtocolError);
    expect(handler).not.toHaveBeenCalled();
  });

  it("passes MESSAGE packets of a program to its handler", async () => {
    const { connection, daemon } = setup();
    const seen = new Promise<Packet>((resolve) => connection.onMessage(RemoteProgram, resolve));
    daemon.send(packet({ type: MessageType.MESSAGE, procedure: 318, serial: 1 }, Buffer.alloc(4)));
    await expect(seen).resolves.toMatchObject({ header: { procedure: 318 } });
  });

  describe("write", () => {
    const streamHeader = {
      program: RemoteProgram.number,
      version: 1,
      procedure: 208,
      type: MessageType.STREAM,
      serial: 7,
      status: MessageStatus.CONTINUE,
    };

    /** A transport that records the chunks it is given; each write completes a turn later. */
    function recordingTransport(highWaterMark?: number) {
      const chunks: Buffer[] = [];
      const socket = new Duplex({
        highWaterMark,
        read() {},
        write(chunk: Buffer, _encoding, callback) {
          chunks.push(chunk);
          setImmediate(callback);
        },
      });
      return { chunks, socket };
    }

    it("sends a large payload as it is after its 28-byte prefix, and says to wait for drain", async () => {
      const { chunks, socket } = recordingTransport();
      const connection = new Connection(socket);
      const payload = Buffer.alloc(262120, 0xab);
      expect(connection.write(streamHeader, payload)).toBe(false);
      await connection.drained();
      expect(socket.writableLength).toBe(0);
      expect(chunks).toHaveLength(2);
      expect(chunks[1]).toBe(payload);
      expect(Buffer.concat(chunks)).toEqual(encodePacket(streamHeader, payload));
    });

    it("copies a payload the transport takes at once, so it may be reused when write returns true", () => {
      const { chunks, socket } = recordingTransport(1024 * 1024);
      const connection = new Connection(socket);
      const payload = Buffer.alloc(262120, 0xab);
      expect(connection.write(streamHeader, payload)).toBe(true);
      payload.fill(0);
      expect(chunks).toHaveLength(1);
      expect(chunks[0]).toEqual(encodePacket(streamHeader, Buffer.alloc(262120, 0xab)));
    });

    it("wakes every writer waiting for drain through one listener on the transport", async () => {
      const { socket } = recordingTransport();
      const connection = new Connection(socket);
      connection.write(streamHeader, Buffer.alloc(262120));
      // Twenty uploads sharing one connection, all waiting for room to send.
      const waiting = Array.from({ length: 20 }, () => connection.drained());
      expect(socket.listenerCount("drain")).toBe(1);
      await Promise.all(waiting);
      expect(socket.listenerCount("drain")).toBe(0);
    });

    it("fails every writer waiting for drain when the connection closes", async () => {
      const { socket } = recordingTransport();
      const connection = new Connection(socket);
      connection.write(streamHeader, Buffer.alloc(262120));
      const waiting = Array.from({ length: 3 }, () => connection.drained());
      socket.destroy();
      for (const wait of waiting) await expect(wait).rejects.toBeInstanceOf(ConnectionClosedError);
      expect(socket.listenerCount("drain")).toBe(0);
    });

    it("copies small payloads into one packet", () => {
      const { chunks, socket } = recordingTransport();
      const connection = new Connection(socket);
      const payload = Buffer.alloc(100, 1);
      connection.write(streamHeader, payload);
      payload.fill(0);
      expect(chunks).toEqual([encodePacket(streamHeader, Buffer.alloc(100, 1))]);
    });
  });
});
