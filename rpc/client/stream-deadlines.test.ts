import { CallTimeoutError, ProtocolError, StreamTimeoutError } from "../errors";
import { MessageStatus, MessageType } from "../protocol/header";
import { Packet } from "../protocol/packet";
import { RemoteProcedures } from "../protocol/remote";
import { encodeStreamHole } from "../protocol/stream-hole";
import { backpressurePair, duplexPair } from "../../test/support/duplex-pair";
import { FakeDaemon } from "../../test/support/fake-daemon";
import { errorReply, packet, streamPacket } from "../../test/support/packets";
import { rejection } from "../../test/support/promises";
import { Connection } from "./connection";
import { DEFAULT_DEADLINES } from "./deadlines";
import { openStream } from "./open-stream";
import { OpenStreamOptions, Stream } from "./stream";

// Streams need real nextTick/microtasks; only the clocks and timers are fake.
beforeEach(() => jest.useFakeTimers({ doNotFake: ["nextTick", "queueMicrotask", "setImmediate"] }));
afterEach(() => jest.useRealTimers());

const UPLOAD = RemoteProcedures.StorageVolUpload;
const DOWNLOAD = RemoteProcedures.StorageVolDownload;
const vol = { pool: "default", name: "disk.raw", key: "/var/lib/libvirt/images/disk.raw" };
const transfer = { vol, offset: 0n, length: 0n, flags: 0 };
const { OK, ERROR } = MessageStatus;

/** Deadlines short enough to watch: 1 s for calls and stream silence, 5 s for a finish. */
const DEADLINES = { callTimeoutMs: 1000, longCallTimeoutMs: 5000, streamIdleTimeoutMs: 1000 };

function setup(pair = duplexPair()) {
  const [client, server] = pair;
  const connection = new Connection(client, { ...DEFAULT_DEADLINES, ...DEADLINES });
  return { connection, daemon: new FakeDaemon(server), server };
}

/** Opens a stream call against the fake daemon and answers its CALL with an OK REPLY. */
async function open(
  connection: Connection,
  daemon: FakeDaemon,
  options: OpenStreamOptions,
): Promise<{ stream: Stream; serial: number }> {
  const procedure = options.direction === "send" ? UPLOAD : DOWNLOAD;
  const opening = openStream(connection, procedure, transfer, options);
  const [call] = await daemon.nextCalls(1);
  const { serial } = call!.header;
  daemon.send(packet({ procedure: procedure.number, serial }));
  return { stream: await opening, serial };
}

const kinds = (packets: Packet[]) =>
  packets.map(({ header }) => `${MessageType[header.type]}/${MessageStatus[header.status]}`);

describe("stream deadlines", () => {
  it("fail a download whose daemon goes silent with StreamTimeoutError, and abort it", async () => {
    const { connection, daemon } = setup();
    const { stream, serial } = await open(connection, daemon, { direction: "receive" });
    daemon.send(streamPacket(209, serial, {}, Buffer.from("first")));
    await expect(stream.read()).resolves.toMatchObject({ type: "data" });
    const reading = rejection(stream.read());
    await jest.advanceTimersByTimeAsync(999);
    expect(daemon.received).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    const error = await reading;
    expect(error).toBeInstanceOf(StreamTimeoutError);
    expect(error).toMatchObject({
      procedure: "StorageVolDownload",
      timeoutMs: 1000,
      waitingFor: "data",
      option: "streamIdleTimeoutMs",
    });
    expect((error as Error).message).toBe(
      "the StorageVolDownload stream waited 1 s for data from the libvirt daemon and was " +
        "aborted. Check the daemon and the volume's storage on the host, or allow longer waits " +
        "(streamIdleTimeoutMs)",
    );
    expect(kinds(await daemon.nextCalls(1))).toEqual(["STREAM/ERROR"]);
    expect(connection.closed).toBe(false);
  });

  it("count every packet as a sign of life, so a slow but steady download goes on", async () => {
    const { connection, daemon } = setup();
    const { stream, serial } = await open(connection, daemon, { direction: "receive" });
    const received: string[] = [];
    const reading = (async () => {
      for (let chunk = await stream.read(); chunk; chunk = await stream.read()) {
        if (chunk.type === "data") received.push(chunk.data.toString());
      }
    })();
    for (const word of ["slow", "but", "steady"]) {
      await jest.advanceTimersByTimeAsync(900);
      daemon.send(streamPacket(209, serial, {}, Buffer.from(word)));
    }
    await jest.advanceTimersByTimeAsync(900);
    daemon.send(streamPacket(209, serial, {}));
    await reading;
    expect(received).toEqual(["slow", "but", "steady"]);
  });

  it("fail an upload when the daemon stops reading and no room to send comes", async () => {
    const { connection, daemon, server } = setup(backpressurePair());
    const { stream } = await open(connection, daemon, { direction: "send" });
    server.pause(); // the daemon stops reading
    const sending = rejection(stream.send(Buffer.alloc(8 * 1024 * 1024)));
    await jest.advanceTimersByTimeAsync(1000);
    await expect(sending).resolves.toMatchObject({
      name: "StreamTimeoutError",
      procedure: "StorageVolUpload",
      waitingFor: "room to send",
    });
  });

  it("stop waiting once the room to send came, so pauses of the uploader itself do not count", async () => {
    const { connection, daemon } = setup(backpressurePair());
    const { stream, serial } = await open(connection, daemon, { direction: "send" });
    await stream.send(Buffer.alloc(2 * 1024 * 1024)); // waits for room to send several times
    await jest.advanceTimersByTimeAsync(3000); // the uploader's source is slow
    await stream.send(Buffer.alloc(2 * 1024 * 1024));
    const finishing = stream.finish();
    await daemon.nextCalls(Math.ceil((4 * 1024 * 1024) / 262120) + 1);
    daemon.send(streamPacket(208, serial, { status: OK }));
    await finishing;
    expect(stream.error).toBeUndefined();
  });

  it("wait longCallTimeoutMs for a finish to be confirmed, then forget the stream", async () => {
    const { connection, daemon } = setup();
    const { stream, serial } = await open(connection, daemon, { direction: "send" });
    const finishing = rejection(stream.finish());
    expect(kinds(await daemon.nextCalls(1))).toEqual(["STREAM/OK"]);
    await jest.advanceTimersByTimeAsync(4999); // the daemon flushes the volume meanwhile
    expect(stream.closed).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await expect(finishing).resolves.toMatchObject({
      waitingFor: "the finish to be confirmed",
      option: "longCallTimeoutMs",
      timeoutMs: 5000,
    });
    expect(stream.closed).toBe(true);
    daemon.send(streamPacket(208, serial, { status: OK })); // too late: dropped
    await jest.advanceTimersByTimeAsync(0);
    expect(connection.closed).toBe(false);
  });

  it("forget a stream whose abort the daemon never confirms", async () => {
    const { connection, daemon } = setup();
    const { stream } = await open(connection, daemon, { direction: "receive" });
    let aborted = false;
    const aborting = stream.abort().then(() => (aborted = true));
    expect(kinds(await daemon.nextCalls(1))).toEqual(["STREAM/ERROR"]);
    await jest.advanceTimersByTimeAsync(999);
    expect(aborted).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await aborting;
    expect(stream.closed).toBe(true);
  });

  it("take a stream's own idleTimeoutMs over the connection's", async () => {
    const { connection, daemon } = setup();
    const { stream } = await open(connection, daemon, { direction: "receive", idleTimeoutMs: 0 });
    let settled = false;
    stream.read().finally(() => (settled = true));
    await jest.advanceTimersByTimeAsync(3600_000);
    expect(settled).toBe(false);
  });
});

describe("a stream's byte limit", () => {
  it("fails a download that brings more than the bytes asked for, and aborts it", async () => {
    const { connection, daemon } = setup();
    const { stream, serial } = await open(connection, daemon, {
      direction: "receive",
      maxBytes: 10,
    });
    daemon.send(streamPacket(209, serial, {}, Buffer.from("123456")));
    daemon.send(streamPacket(209, serial, {}, Buffer.from("789abc")));
    const error = await rejection(stream.read());
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as Error).message).toBe(
      "the libvirt daemon sent more than the 10 bytes asked for on the StorageVolDownload " +
        "stream (12 so far); the stream was aborted",
    );
    expect(kinds(await daemon.nextCalls(1))).toEqual(["STREAM/ERROR"]);
    daemon.send(streamPacket(209, serial, {}, Buffer.alloc(1024))); // still coming: dropped
    daemon.send(streamPacket(209, serial, { status: OK }));
    await stream.abort();
    expect(connection.closed).toBe(false);
  });

  it("accepts exactly the bytes asked for, holes included", async () => {
    const { connection, daemon } = setup();
    const { stream, serial } = await open(connection, daemon, {
      direction: "receive",
      sparse: true,
      maxBytes: 10,
    });
    const HOLE = MessageType.STREAM_HOLE;
    daemon.send(streamPacket(209, serial, {}, Buffer.from("head")));
    daemon.send(streamPacket(209, serial, { type: HOLE }, encodeStreamHole(6)));
    daemon.send(streamPacket(209, serial, {}));
    await expect(stream.read()).resolves.toMatchObject({ type: "data" });
    await expect(stream.read()).resolves.toEqual({ type: "hole", length: 6 });
    await expect(stream.read()).resolves.toBeNull();
  });

  it("counts a hole past the limit as too much", async () => {
    const { connection, daemon } = setup();
    const { stream, serial } = await open(connection, daemon, {
      direction: "receive",
      sparse: true,
      maxBytes: 4096,
    });
    daemon.send(
      streamPacket(209, serial, { type: MessageType.STREAM_HOLE }, encodeStreamHole(2 ** 33)),
    );
    await expect(stream.read()).rejects.toThrow("more than the 4096 bytes asked for");
  });
});

describe("a stream call given up on", () => {
  it("answers the late OK with an abort, so the daemon does not keep the stream open", async () => {
    const { connection, daemon } = setup();
    const opening = rejection(openStream(connection, DOWNLOAD, transfer, { direction: "receive" }));
    const [call] = await daemon.nextCalls(1);
    const { serial } = call!.header;
    await jest.advanceTimersByTimeAsync(1000);
    await expect(opening).resolves.toBeInstanceOf(CallTimeoutError);

    daemon.send(packet({ procedure: 209, serial })); // the daemon opened it after all
    daemon.send(streamPacket(209, serial, {}, Buffer.from("unwanted")));
    const [abort] = await daemon.nextCalls(1);
    expect(abort!.header).toMatchObject({ type: MessageType.STREAM, status: ERROR, serial });
    daemon.send(streamPacket(209, serial, { status: OK }));
    daemon.send(streamPacket(209, serial, {}, Buffer.from("stray"))); // after it: dropped
    await jest.advanceTimersByTimeAsync(0);
    expect(connection.closed).toBe(false);
    expect(connection.awaitsLateReply(serial)).toBe(false);
  });

  it("takes a late error reply as the end of it, sending nothing", async () => {
    const { connection, daemon } = setup();
    const opening = rejection(openStream(connection, UPLOAD, transfer, { direction: "send" }));
    const [call] = await daemon.nextCalls(1);
    const { serial } = call!.header;
    await jest.advanceTimersByTimeAsync(1000);
    await expect(opening).resolves.toBeInstanceOf(CallTimeoutError);
    daemon.send(
      errorReply({ procedure: 208, serial }, { code: 50, domain: 18, message: "no vol" }),
    );
    await jest.advanceTimersByTimeAsync(0);
    expect(daemon.received).toHaveLength(0);
    expect(connection.closed).toBe(false);
  });
});
