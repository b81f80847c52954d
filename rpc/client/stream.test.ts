import { createHash, randomBytes } from "node:crypto";
import { ConnectionClosedError, LibvirtError, ProtocolError } from "../errors";
import { ErrorCode, ErrorDomain } from "../protocol/error-codes";
import { MessageStatus, MessageType, STREAM_CHUNK_SIZE } from "../protocol/header";
import { Packet } from "../protocol/packet";
import { RemoteProcedures } from "../protocol/remote";
import { encodeStreamHole } from "../protocol/stream-hole";
import { backpressurePair } from "../../test/support/duplex-pair";
import { FakeDaemon, fakeConnection } from "../../test/support/fake-daemon";
import { errorPayload, errorReply, hex, packet, streamPacket } from "../../test/support/packets";
import { Connection } from "./connection";
import { openStream } from "./open-stream";
import { RECEIVE_HIGH_WATER, Stream, StreamChunk } from "./stream";

const UPLOAD = RemoteProcedures.StorageVolUpload;
const DOWNLOAD = RemoteProcedures.StorageVolDownload;
const vol = { pool: "default", name: "disk.raw", key: "/var/lib/libvirt/images/disk.raw" };
const transfer = { vol, offset: 0n, length: 0n, flags: 0 };

const STREAM = MessageType.STREAM;
const HOLE = MessageType.STREAM_HOLE;
const { OK, ERROR } = MessageStatus;

/** A storage error, as the daemon reports a failed read or write of a volume. */
const diskError = (message: string) =>
  errorPayload({ code: ErrorCode.SYSTEM_ERROR, domain: ErrorDomain.STORAGE, message });

/** Opens a stream call against the fake daemon and answers its CALL with an OK REPLY. */
async function open(
  connection: Connection,
  daemon: FakeDaemon,
  direction: "send" | "receive",
  sparse = false,
): Promise<{ stream: Stream; serial: number; procedure: number }> {
  const procedure = direction === "send" ? UPLOAD : DOWNLOAD;
  const opening = openStream(
    connection,
    procedure,
    { ...transfer, flags: sparse ? 1 : 0 },
    {
      direction,
      sparse,
    },
  );
  const [call] = await daemon.nextCalls(1);
  const { serial } = call!.header;
  daemon.send(packet({ procedure: procedure.number, serial }));
  return { stream: await opening, serial, procedure: procedure.number };
}

/** Reads a stream to its end. */
async function readAll(stream: Stream): Promise<StreamChunk[]> {
  const chunks: StreamChunk[] = [];
  for (let chunk = await stream.read(); chunk; chunk = await stream.read()) chunks.push(chunk);
  return chunks;
}

function kinds(packets: Packet[]): string[] {
  return packets.map(
    ({ header, payload }) =>
      `${MessageType[header.type]}/${MessageStatus[header.status]}/${payload.length}`,
  );
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("Stream, uploading", () => {
  it("sends nothing before the REPLY, then data, holes and a finish it waits to see confirmed", async () => {
    const { connection, daemon } = fakeConnection();
    const opening = openStream(
      connection,
      UPLOAD,
      { ...transfer, flags: 1 },
      {
        direction: "send",
        sparse: true,
      },
    );
    const [call] = await daemon.nextCalls(1);
    expect(call!.header).toMatchObject({ type: MessageType.CALL, procedure: 208, status: OK });
    const { serial } = call!.header;
    await tick();
    expect(daemon.received).toHaveLength(0);
    daemon.send(packet({ procedure: 208, serial }));
    const stream = await opening;

    const data = randomBytes(STREAM_CHUNK_SIZE * 2 + 10);
    await stream.send(data);
    await stream.sendHole(5 * 1024 ** 3);
    await stream.send(Buffer.from("tail"));
    let finished = false;
    const finishing = stream.finish().then(() => (finished = true));

    const packets = await daemon.nextCalls(6);
    expect(kinds(packets)).toEqual([
      `STREAM/CONTINUE/${STREAM_CHUNK_SIZE}`,
      `STREAM/CONTINUE/${STREAM_CHUNK_SIZE}`,
      "STREAM/CONTINUE/10",
      "STREAM_HOLE/CONTINUE/12",
      "STREAM/CONTINUE/4",
      "STREAM/OK/0",
    ]);
    for (const { header } of packets) {
      expect(header).toMatchObject({ program: 0x20008086, version: 1, procedure: 208, serial });
    }
    expect(Buffer.concat(packets.slice(0, 3).map((p) => p.payload)).equals(data)).toBe(true);
    expect(packets[3]!.payload).toEqual(hex("00000001 40000000 00000000"));

    await tick();
    expect(finished).toBe(false);
    daemon.send(streamPacket(208, serial, { status: OK }));
    await finishing;
    expect(stream.closed).toBe(true);
  });

  it("stops at once when the server reports a failure mid-upload", async () => {
    const { connection, daemon } = fakeConnection();
    const { stream, serial } = await open(connection, daemon, "send");
    await stream.send(Buffer.from("first"));
    daemon.send(streamPacket(208, serial, { status: ERROR }, diskError("disk full")));
    await tick();
    const error = await stream.send(Buffer.from("second")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LibvirtError);
    expect(error).toMatchObject({ message: "disk full", procedure: "StorageVolUpload" });
    await expect(stream.finish()).rejects.toBe(error);
    await stream.abort(); // nothing left to abort: resolves without a packet
    expect(kinds(daemon.received)).toEqual(["STREAM/CONTINUE/5"]);
    expect(connection.closed).toBe(false);
  });

  it("fails and aborts an upload when the server sends data on it, even an empty packet", async () => {
    const { connection, daemon } = fakeConnection();
    const { stream, serial } = await open(connection, daemon, "send");
    daemon.send(streamPacket(208, serial, {}, Buffer.alloc(0)));
    await tick();
    const error = await stream.send(Buffer.from("data")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ message: expect.stringContaining("upload stream") });
    const [abort] = await daemon.nextCalls(1);
    expect(kinds([abort!])).toEqual(["STREAM/ERROR/0"]);
    daemon.send(streamPacket(208, serial, { status: OK }));
    await stream.abort();
    expect(connection.closed).toBe(false);
  });

  it("takes a REPLY error carrying the stream's serial (a hole the server failed to write) as the stream's", async () => {
    const { connection, daemon } = fakeConnection();
    const { stream, serial } = await open(connection, daemon, "send", true);
    await stream.sendHole(4096);
    daemon.send(
      errorReply(
        { procedure: 208, serial },
        { code: ErrorCode.SYSTEM_ERROR, domain: 0, message: "unable to seek" },
      ),
    );
    await tick();
    await expect(stream.send(Buffer.from("x"))).rejects.toThrow("unable to seek");
    expect(connection.closed).toBe(false);
  });

  it("rejects the finish with the server's error when the data could not be flushed", async () => {
    const { connection, daemon } = fakeConnection();
    const { stream, serial } = await open(connection, daemon, "send");
    const finishing = stream.finish();
    await daemon.nextCalls(1);
    daemon.send(streamPacket(208, serial, { status: ERROR }, diskError("I/O error")));
    await expect(finishing).rejects.toMatchObject({ name: "LibvirtError", message: "I/O error" });
  });

  it("aborts with an empty STREAM/ERROR and waits for the server to confirm", async () => {
    const { connection, daemon } = fakeConnection();
    const { stream, serial } = await open(connection, daemon, "send");
    await stream.send(Buffer.from("some"));
    let aborted = false;
    const aborting = stream.abort().then(() => (aborted = true));
    const packets = await daemon.nextCalls(2);
    expect(kinds(packets)).toEqual(["STREAM/CONTINUE/4", "STREAM/ERROR/0"]);
    await tick();
    expect(aborted).toBe(false);
    await expect(stream.send(Buffer.from("more"))).rejects.toThrow("already closed");
    daemon.send(streamPacket(208, serial, { status: OK }));
    await aborting;
    // Late packets of the dead stream are dropped; the connection carries on.
    daemon.send(streamPacket(208, serial, { status: OK }));
    await tick();
    expect(connection.closed).toBe(false);
  });

  it("refuses holes on a stream that was not opened sparse", async () => {
    const { connection, daemon } = fakeConnection();
    const { stream } = await open(connection, daemon, "send");
    await expect(stream.sendHole(10)).rejects.toThrow("sparse");
  });

  it("waits for the transport to drain before sending more", async () => {
    const [client, server] = backpressurePair();
    const connection = new Connection(client);
    const daemon = new FakeDaemon(server);
    const { stream } = await open(connection, daemon, "send");
    server.pause(); // the daemon stops reading
    const data = randomBytes(8 * 1024 * 1024);
    let sent = false;
    const sending = stream.send(data).then(() => (sent = true));
    for (let i = 0; i < 20; i++) await tick();
    expect(sent).toBe(false);
    // Only a couple of packets left the client; the rest waits unread in `data`.
    expect(client.writableLength).toBeLessThan(3 * STREAM_CHUNK_SIZE);
    server.resume();
    await sending;
    const packets = await daemon.nextCalls(Math.ceil(data.length / STREAM_CHUNK_SIZE));
    expect(Buffer.concat(packets.map((p) => p.payload)).equals(data)).toBe(true);
  });

  it("resolves a send only once the transport let go of its bytes, so the caller may reuse them", async () => {
    const [client, server] = backpressurePair();
    const connection = new Connection(client);
    const daemon = new FakeDaemon(server);
    const { stream } = await open(connection, daemon, "send");
    server.pause();
    const data = randomBytes(1024 * 1024);
    const original = Buffer.from(data);
    let sent = false;
    const sending = stream.send(data).then(() => (sent = true));
    for (let i = 0; i < 20; i++) await tick();
    expect(sent).toBe(false);
    server.resume();
    await sending;
    data.fill(0xee); // as an upload's file reader does with its buffer
    const packets = await daemon.nextCalls(Math.ceil(data.length / STREAM_CHUNK_SIZE));
    expect(Buffer.concat(packets.map((p) => p.payload)).equals(original)).toBe(true);
  });
});

describe("Stream, downloading", () => {
  it("keeps data that arrives before the REPLY, reads to the empty CONTINUE, then finishes", async () => {
    const { connection, daemon } = fakeConnection();
    const opening = openStream(connection, DOWNLOAD, transfer, { direction: "receive" });
    const [call] = await daemon.nextCalls(1);
    const { serial } = call!.header;
    daemon.send(streamPacket(209, serial, {}, Buffer.from("early ")));
    daemon.send(packet({ procedure: 209, serial }));
    daemon.send(streamPacket(209, serial, {}, Buffer.from("bird")));
    daemon.send(streamPacket(209, serial, {}));
    const stream = await opening;
    const chunks = await readAll(stream);
    expect(chunks.map((c) => (c.type === "data" ? c.data.toString() : c.length))).toEqual([
      "early ",
      "bird",
    ]);
    await expect(stream.read()).resolves.toBeNull();

    const finishing = stream.finish();
    const [finish] = await daemon.nextCalls(1);
    expect(finish!.header).toMatchObject({ type: STREAM, status: OK, procedure: 209, serial });
    daemon.send(streamPacket(209, serial, { status: OK }));
    await finishing;
  });

  it("yields holes of a sparse stream by length", async () => {
    const { connection, daemon } = fakeConnection();
    const { stream, serial } = await open(connection, daemon, "receive", true);
    daemon.send(streamPacket(209, serial, {}, Buffer.from("head")));
    daemon.send(streamPacket(209, serial, { type: HOLE }, encodeStreamHole(2 ** 33)));
    daemon.send(streamPacket(209, serial, {}, Buffer.from("tail")));
    daemon.send(streamPacket(209, serial, { type: HOLE }, encodeStreamHole(100)));
    daemon.send(streamPacket(209, serial, {}));
    const chunks: (string | number)[] = [];
    for await (const chunk of stream) {
      chunks.push(chunk.type === "data" ? chunk.data.toString() : chunk.length);
    }
    expect(chunks).toEqual(["head", 2 ** 33, "tail", 100]);
  });

  it("hands over everything received so far in one batch", async () => {
    const { connection, daemon } = fakeConnection();
    const { stream, serial } = await open(connection, daemon, "receive", true);
    daemon.send(streamPacket(209, serial, {}, Buffer.from("a")));
    daemon.send(streamPacket(209, serial, { type: HOLE }, encodeStreamHole(7)));
    daemon.send(streamPacket(209, serial, {}, Buffer.from("bc")));
    await tick();
    const batch = await stream.readAvailable();
    expect(batch?.map((c) => (c.type === "data" ? c.data.toString() : c.length))).toEqual([
      "a",
      7,
      "bc",
    ]);
    expect(stream.bufferedBytes).toBe(0);
    daemon.send(streamPacket(209, serial, {}));
    await expect(stream.readAvailable()).resolves.toBeNull();
  });

  it("reassembles packets however the socket splits them", async () => {
    const { connection, daemon } = fakeConnection();
    const { stream, serial } = await open(connection, daemon, "receive", true);
    const data = randomBytes(70_000);
    const bytes = Buffer.concat([
      streamPacket(209, serial, {}, data.subarray(0, 40_000)),
      streamPacket(209, serial, { type: HOLE }, encodeStreamHole(12)),
      streamPacket(209, serial, {}, data.subarray(40_000)),
      streamPacket(209, serial, {}),
    ]);
    for (let offset = 0; offset < bytes.length;) {
      const size = 1 + ((offset * 7919) % 9000);
      daemon.send(bytes.subarray(offset, offset + size));
      offset += size;
    }
    const chunks = await readAll(stream);
    expect(chunks.map((c) => c.type)).toEqual(["data", "hole", "data"]);
    const received = chunks.filter((c) => c.type === "data").map((c) => c.data);
    expect(Buffer.concat(received).equals(data)).toBe(true);
  });

  it("fails the read with the server's error, and the connection carries on", async () => {
    const { connection, daemon } = fakeConnection();
    const { stream, serial } = await open(connection, daemon, "receive");
    daemon.send(streamPacket(209, serial, {}, Buffer.from("partial")));
    daemon.send(streamPacket(209, serial, { status: ERROR }, diskError("read error")));
    await expect(stream.read()).resolves.toMatchObject({ type: "data" });
    const error = await stream.read().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LibvirtError);
    expect(error).toMatchObject({ code: ErrorCode.SYSTEM_ERROR, domain: ErrorDomain.STORAGE });
    expect(stream.closed).toBe(true);
    expect(connection.closed).toBe(false);
    const next = openStream(connection, DOWNLOAD, transfer, { direction: "receive" });
    const [call] = await daemon.nextCalls(1);
    daemon.send(packet({ procedure: 209, serial: call!.header.serial }));
    await expect(next).resolves.toBeInstanceOf(Stream);
  });

  it("takes a finish from the server before end of data as a protocol error of the stream only", async () => {
    const { connection, daemon } = fakeConnection();
    const { stream, serial } = await open(connection, daemon, "receive");
    daemon.send(streamPacket(209, serial, { status: OK }));
    await expect(stream.read()).rejects.toThrow(ProtocolError);
    // The stream is aborted on the server, the connection stays.
    const [abort] = await daemon.nextCalls(1);
    expect(abort!.header).toMatchObject({ type: STREAM, status: ERROR, serial });
    expect(connection.closed).toBe(false);
  });

  it("rejects a hole on a stream that is not sparse, and aborts it", async () => {
    const { connection, daemon } = fakeConnection();
    const { stream, serial } = await open(connection, daemon, "receive");
    daemon.send(streamPacket(209, serial, { type: HOLE }, encodeStreamHole(10)));
    await expect(stream.read()).rejects.toThrow("unexpected stream hole");
    const [abort] = await daemon.nextCalls(1);
    expect(kinds([abort!])).toEqual(["STREAM/ERROR/0"]);
    daemon.send(streamPacket(209, serial, { status: OK }));
    await stream.abort();
  });

  it("aborts mid-download, dropping the data still in flight", async () => {
    const { connection, daemon } = fakeConnection();
    const { stream, serial } = await open(connection, daemon, "receive");
    daemon.send(streamPacket(209, serial, {}, Buffer.from("one")));
    await tick();
    const aborting = stream.abort();
    daemon.send(streamPacket(209, serial, {}, Buffer.from("in flight")));
    const [abort] = await daemon.nextCalls(1);
    expect(kinds([abort!])).toEqual(["STREAM/ERROR/0"]);
    daemon.send(streamPacket(209, serial, { status: OK }));
    await aborting;
    expect(stream.bufferedBytes).toBe(0);
    await expect(stream.read()).rejects.toThrow("ended early");
  });

  it("fails the open, and forgets the stream, when the call is refused", async () => {
    const { connection, daemon } = fakeConnection();
    const opening = openStream(connection, DOWNLOAD, transfer, { direction: "receive" });
    const [call] = await daemon.nextCalls(1);
    const { serial } = call!.header;
    daemon.send(
      errorReply(
        { procedure: 209, serial },
        { code: ErrorCode.NO_STORAGE_VOL, domain: ErrorDomain.STORAGE, message: "no vol" },
      ),
    );
    await expect(opening).rejects.toMatchObject({ code: ErrorCode.NO_STORAGE_VOL });
    daemon.send(streamPacket(209, serial, {}, Buffer.from("stray")));
    await tick();
    expect(connection.closed).toBe(false);
  });

  it("fails pending reads and finishes with the connection's error when it dies", async () => {
    const { connection, daemon, server } = fakeConnection();
    const download = await open(connection, daemon, "receive");
    const upload = await open(connection, daemon, "send");
    const reading = download.stream.read();
    const finishing = upload.stream.finish();
    await daemon.nextCalls(1);
    server.end(); // the daemon hangs up
    await expect(reading).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect(finishing).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect(upload.stream.send(Buffer.from("x"))).rejects.toBeInstanceOf(
      ConnectionClosedError,
    );
    expect(connection.listenerCount("closed")).toBe(0);
  });

  it("ends every open stream when the connection dies, with no listener on it for each", async () => {
    const { connection, daemon, server } = fakeConnection();
    const listeners = connection.listenerCount("closed");
    // More streams at once than Node.js allows listeners on one emitter without a warning.
    const uploads = [];
    for (let i = 0; i < 12; i++) uploads.push(await open(connection, daemon, "send"));
    expect(connection.listenerCount("closed")).toBe(listeners);
    const closed = new Promise((resolve) => connection.once("closed", resolve));
    server.end();
    await closed;
    for (const { stream } of uploads) {
      expect(stream.closed).toBe(true);
      await expect(stream.send(Buffer.from("x"))).rejects.toBeInstanceOf(ConnectionClosedError);
    }
  });

  it("stops reading the socket while the reader is behind, so memory stays bounded", async () => {
    const [client, server] = backpressurePair();
    const connection = new Connection(client);
    const daemon = new FakeDaemon(server);
    const { stream, serial } = await open(connection, daemon, "receive");

    const total = 64 * 1024 * 1024;
    const sent = createHash("sha256");
    const producing = (async () => {
      for (let offset = 0; offset < total; offset += STREAM_CHUNK_SIZE) {
        const data = randomBytes(Math.min(STREAM_CHUNK_SIZE, total - offset));
        sent.update(data);
        if (!server.write(streamPacket(209, serial, {}, data))) {
          await new Promise((resolve) => server.once("drain", resolve));
        }
      }
      server.write(streamPacket(209, serial, {}));
    })();

    const received = createHash("sha256");
    let receivedBytes = 0;
    let maxBuffered = 0;
    for (let chunk = await stream.read(); chunk; chunk = await stream.read()) {
      if (chunk.type === "data") {
        received.update(chunk.data);
        receivedBytes += chunk.data.length;
      }
      maxBuffered = Math.max(maxBuffered, stream.bufferedBytes);
      await new Promise((resolve) => setTimeout(resolve, receivedBytes < 8 * 1024 * 1024 ? 2 : 0));
    }
    await producing;
    expect(receivedBytes).toBe(total);
    expect(received.digest("hex")).toBe(sent.digest("hex"));
    expect(maxBuffered).toBeGreaterThan(RECEIVE_HIGH_WATER / 2); // the reader really was behind
    expect(maxBuffered).toBeLessThanOrEqual(RECEIVE_HIGH_WATER + STREAM_CHUNK_SIZE + 65536);
    expect(client.readableLength).toBeLessThan(2 * STREAM_CHUNK_SIZE);
  });
});
