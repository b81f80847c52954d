import { ProtocolError } from "../errors";
import { hex, packet } from "../../test/support/packets";
import { MessageStatus, MessageType } from "./header";
import { PacketDecoder, encodePacket, encodePacketPrefix } from "./packet";

// A CONNECT_OPEN call (src/rpc/virnetprotocol.x header, src/remote/remote_protocol.x args):
// serial 3, name "qemu:///system", flags 0.
const CONNECT_OPEN = hex(`
  00000038  // length: 56 bytes including this word
  20008086 00000001 00000001  // program REMOTE, version 1, procedure 1 (CONNECT_OPEN)
  00000000 00000003 00000000  // type CALL, serial 3, status OK
  00000001 0000000e  // name: present, 14 bytes
  71656d75 3a2f2f2f 73797374 656d0000  // "qemu:///system" + 2 bytes of padding
  00000000  // flags
`);
const CONNECT_OPEN_HEADER = {
  program: 0x20008086,
  version: 1,
  procedure: 1,
  type: MessageType.CALL,
  serial: 3,
  status: MessageStatus.OK,
};

describe("encodePacket", () => {
  it("produces the documented bytes for a CONNECT_OPEN call", () => {
    const payload = CONNECT_OPEN.subarray(28);
    const bytes = encodePacket(CONNECT_OPEN_HEADER, payload);
    expect(bytes).toEqual(CONNECT_OPEN);
  });

  it("produces a 28-byte keepalive PONG", () => {
    const pong = encodePacket({
      program: 0x6b656570,
      version: 1,
      procedure: 2,
      type: MessageType.MESSAGE,
      serial: 0,
      status: MessageStatus.OK,
    });
    expect(pong).toEqual(hex("0000001c 6b656570 00000001 00000002 00000002 00000000 00000000"));
  });
});

describe("encodePacketPrefix", () => {
  it("gives the first 28 bytes of the packet, so that prefix and payload make the whole message", () => {
    const header = CONNECT_OPEN_HEADER;
    const payload = CONNECT_OPEN.subarray(28);
    const prefix = encodePacketPrefix(header, payload.length);
    expect(prefix).toEqual(CONNECT_OPEN.subarray(0, 28));
    expect(Buffer.concat([prefix, payload])).toEqual(encodePacket(header, payload));
  });

  it("refuses an oversize payload length", () => {
    expect(() =>
      encodePacketPrefix(
        { program: 1, version: 1, procedure: 1, type: 0, serial: 0, status: 0 },
        33554409,
      ),
    ).toThrow(/exceeds the protocol maximum/);
  });
});

describe("PacketDecoder", () => {
  it("decodes one message fed in two pieces split at every byte offset", () => {
    for (let split = 0; split <= CONNECT_OPEN.length; split++) {
      const decoder = new PacketDecoder();
      const packets = [
        ...decoder.push(CONNECT_OPEN.subarray(0, split)),
        ...decoder.push(CONNECT_OPEN.subarray(split)),
      ];
      expect(packets).toHaveLength(1);
      expect(packets[0]!.header).toEqual({
        program: 0x20008086,
        version: 1,
        procedure: 1,
        type: MessageType.CALL,
        serial: 3,
        status: MessageStatus.OK,
      });
      expect(packets[0]!.payload).toEqual(CONNECT_OPEN.subarray(28));
      expect(decoder.pendingBytes).toBe(0);
    }
  });

  it("decodes a message fed one byte at a time", () => {
    const decoder = new PacketDecoder();
    const packets = [];
    for (const byte of CONNECT_OPEN) packets.push(...decoder.push(Buffer.from([byte])));
    expect(packets).toHaveLength(1);
  });

  it("decodes several messages arriving in one chunk, and keeps a partial one", () => {
    const three = Buffer.concat([
      packet({ serial: 1 }),
      packet({ serial: 2 }, Buffer.alloc(8)),
      packet({ serial: 3 }),
    ]);
    const decoder = new PacketDecoder();
    const first = decoder.push(three.subarray(0, three.length - 5));
    expect(first.map((p) => p.header.serial)).toEqual([1, 2]);
    expect(decoder.push(three.subarray(three.length - 5)).map((p) => p.header.serial)).toEqual([3]);
  });

  it("rejects a length word smaller than a header", () => {
    expect(() => new PacketDecoder().push(hex("0000001b"))).toThrow(ProtocolError);
    expect(() => new PacketDecoder().push(hex("00000000"))).toThrow(/bad message length 0/);
  });

  it("rejects an oversize length word before buffering its data", () => {
    const decoder = new PacketDecoder();
    expect(() => decoder.push(hex("02000005"))).toThrow(/exceeds the protocol maximum/);
    expect(() => decoder.push(hex("00"))).toThrow(ProtocolError);
  });

  it("accepts a message of exactly the maximum size", () => {
    const decoder = new PacketDecoder();
    const big = Buffer.alloc(4 + 33554432);
    big.writeUInt32BE(big.length, 0);
    big.set(
      packet({ type: MessageType.STREAM, status: MessageStatus.CONTINUE }).subarray(4, 28),
      4,
    );
    const packets = [];
    for (let at = 0; at < big.length; at += 65536)
      packets.push(...decoder.push(big.subarray(at, at + 65536)));
    expect(packets).toHaveLength(1);
    expect(packets[0]!.payload.length).toBe(33554432 - 24);
  });

  it("rejects an unknown message type or status", () => {
    expect(() => new PacketDecoder().push(packet({ type: 9 as MessageType }))).toThrow(
      /unknown message type 9/,
    );
    expect(() => new PacketDecoder().push(packet({ status: 7 as MessageStatus }))).toThrow(
      /unknown message status 7/,
    );
  });

  it("reports a message cut short at end of stream", () => {
    const decoder = new PacketDecoder();
    decoder.push(CONNECT_OPEN.subarray(0, 30));
    expect(() => decoder.end()).toThrow(/in the middle of a message \(30 of 56 bytes/);
    const clean = new PacketDecoder();
    clean.push(CONNECT_OPEN);
    expect(() => clean.end()).not.toThrow();
  });

  it("refuses an oversize payload when encoding", () => {
    expect(() =>
      encodePacket(
        { program: 1, version: 1, procedure: 1, type: 0, serial: 0, status: 0 },
        Buffer.alloc(33554409),
      ),
    ).toThrow(ProtocolError);
  });
});
