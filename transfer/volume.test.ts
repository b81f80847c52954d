import { randomBytes } from "node:crypto";
import { mkdtemp, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { LibvirtError } from "../rpc/errors";
import { ErrorCode, ErrorDomain } from "../rpc/protocol/error-codes";
import { MessageStatus, MessageType, STREAM_CHUNK_SIZE } from "../rpc/protocol/header";
import { Packet } from "../rpc/protocol/packet";
import { RemoteProcedures } from "../rpc/protocol/remote";
import { decodeStreamHole, encodeStreamHole } from "../rpc/protocol/stream-hole";
import { decode, encode } from "../rpc/xdr";
import { FakeDaemon, fakeConnection } from "../test/support/fake-daemon";
import { errorPayload, errorReply, packet, streamPacket } from "../test/support/packets";
import { HOLE_GRANULE } from "./hole-scanner";
import type { TransferProgress } from "./progress";
import { downloadVolume, uploadVolume } from "./volume";
import { writeSparseFile } from "../test/support/sparse-file";

const vol = { pool: "default", name: "disk.raw", key: "/images/disk.raw" };
const UPLOAD = RemoteProcedures.StorageVolUpload.number;
const DOWNLOAD = RemoteProcedures.StorageVolDownload.number;
const { OK, ERROR, CONTINUE } = MessageStatus;
const KiB = 1024;
const MiB = 1024 * KiB;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vwtest-transfer-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function next(daemon: FakeDaemon): Promise<Packet> {
  return (await daemon.nextCalls(1))[0]!;
}

/** A storage error, as the daemon reports a failed read or write of a volume. */
const diskError = (message: string) =>
  errorPayload({ code: ErrorCode.SYSTEM_ERROR, domain: ErrorDomain.STORAGE, message });

/**
 * Plays the daemon's side of an upload: answers the CALL, collects the stream until the finish,
 * confirms it. Resolves with the call's args and the bytes the stream stands for.
 */
async function serveUpload(daemon: FakeDaemon) {
  const call = await next(daemon);
  expect(call.header).toMatchObject({ type: MessageType.CALL, procedure: 208 });
  const args = decode(RemoteProcedures.StorageVolUpload.args, call.payload);
  const { serial } = call.header;
  daemon.send(packet({ procedure: 208, serial }));
  const pieces: Buffer[] = [];
  let holes = 0;
  let largestData = 0;
  for (;;) {
    const { header, payload } = await next(daemon);
    expect(header).toMatchObject({ procedure: 208, serial });
    if (header.type === MessageType.STREAM_HOLE) {
      holes++;
      pieces.push(Buffer.alloc(decodeStreamHole(payload)));
    } else if (header.status === CONTINUE) {
      largestData = Math.max(largestData, payload.length);
      pieces.push(payload);
    } else {
      expect(header.status).toBe(OK);
      daemon.send(streamPacket(UPLOAD, serial, { status: OK }));
      return { args, content: Buffer.concat(pieces), holes, largestData };
    }
  }
}

/** Answers the size query a download starts with. */
async function answerSizeQuery(daemon: FakeDaemon, allocation: bigint | undefined) {
  const query = await next(daemon);
  expect(query.header.procedure).toBe(RemoteProcedures.StorageVolGetInfoFlags.number);
  const { serial, procedure } = query.header;
  if (allocation === undefined) {
    daemon.send(
      errorReply({ procedure, serial }, { code: ErrorCode.NO_SUPPORT, domain: 0, message: "no" }),
    );
  } else {
    daemon.send(
      packet(
        { procedure, serial },
        encode(RemoteProcedures.StorageVolGetInfoFlags.ret, {
          type: 0,
          capacity: allocation,
          allocation,
        }),
      ),
    );
  }
}

/** Answers the download CALL; resolves with its serial and args. */
async function acceptDownload(daemon: FakeDaemon) {
  const call = await next(daemon);
  expect(call.header).toMatchObject({ type: MessageType.CALL, procedure: 209 });
  daemon.send(packet({ procedure: 209, serial: call.header.serial }));
  return {
    serial: call.header.serial,
    args: decode(RemoteProcedures.StorageVolDownload.args, call.payload),
  };
}

async function confirmFinish(daemon: FakeDaemon, serial: number) {
  const finish = await next(daemon);
  expect(finish.header).toMatchObject({ type: MessageType.STREAM, status: OK, serial });
  daemon.send(streamPacket(DOWNLOAD, serial, { status: OK }));
}

/** A file with data at `extents` and holes elsewhere, `size` bytes long, in the test's folder. */
const sparseFile = (name: string, size: number, extents: [number, number][]) =>
  writeSparseFile(join(dir, name), size, extents);

describe("uploadVolume", () => {
  it("sends a sparse file's holes as holes and its data in packets of at most 262120 bytes", async () => {
    const size = 8 * MiB;
    const path = await sparseFile("sparse-up.raw", size, [
      [0, 100 * KiB],
      [3 * MiB + 5, 700 * KiB],
    ]);
    const { connection, daemon } = fakeConnection();
    const progress: TransferProgress[] = [];
    const [result, served] = await Promise.all([
      uploadVolume({ connection }, vol, path, {
        sparse: true,
        onProgress: (p) => progress.push(p),
      }),
      serveUpload(daemon),
    ]);
    expect(served.args).toEqual({ vol, offset: 0n, length: 0n, flags: 1 });
    expect(served.content.equals(await readFile(path))).toBe(true);
    expect(served.holes).toBe(2); // between and after the data
    expect(served.largestData).toBeLessThanOrEqual(STREAM_CHUNK_SIZE);
    expect(result.bytes).toBe(size);
    // Whole granules: 100 KiB spans 2, 700 KiB from 3 MiB + 5 spans granules 48 to 58.
    expect(result.dataBytes).toBe(13 * HOLE_GRANULE);
    expect(result.holeBytes).toBe(size - result.dataBytes);
    expect(progress.map((p) => p.total)).toEqual(progress.map(() => size));
    expect(progress.map((p) => p.bytes)).toEqual(
      [...progress.map((p) => p.bytes)].sort((a, b) => a - b),
    );
    expect(progress[progress.length - 1]!.bytes).toBe(size);
  });

  it("sends only data without the sparse flag, within offset and length", async () => {
    const path = join(dir, "dense-up.raw");
    const content = randomBytes(3 * MiB);
    content.fill(0, MiB, 2 * MiB);
    await writeFile(path, content);
    const { connection, daemon } = fakeConnection();
    const [result, served] = await Promise.all([
      uploadVolume({ connection }, vol, path, { offset: 4096, length: 2 * MiB + 3 }),
      serveUpload(daemon),
    ]);
    expect(served.args).toEqual({ vol, offset: 4096n, length: BigInt(2 * MiB + 3), flags: 0 });
    expect(served.holes).toBe(0);
    expect(served.content.equals(content.subarray(0, 2 * MiB + 3))).toBe(true);
    expect(result).toEqual({ bytes: 2 * MiB + 3, dataBytes: 2 * MiB + 3, holeBytes: 0 });
  });

  it("reads an open file from its current position", async () => {
    const path = join(dir, "handle-up.raw");
    const content = randomBytes(100 * KiB);
    await writeFile(path, content);
    const file = await open(path, "r");
    await file.read(Buffer.alloc(1000), 0, 1000, null); // move the position past 1000 bytes
    const { connection, daemon } = fakeConnection();
    const [result, served] = await Promise.all([
      uploadVolume({ connection }, vol, file),
      serveUpload(daemon),
    ]);
    await file.close();
    expect(served.content.equals(content.subarray(1000))).toBe(true);
    expect(result.bytes).toBe(content.length - 1000);
  });

  it("finds holes in a byte stream by content", async () => {
    const chunks = [
      randomBytes(10),
      Buffer.alloc(3 * HOLE_GRANULE),
      randomBytes(HOLE_GRANULE - 10),
    ];
    const { connection, daemon } = fakeConnection();
    const [result, served] = await Promise.all([
      uploadVolume({ connection }, vol, Readable.from(chunks), { sparse: true }),
      serveUpload(daemon),
    ]);
    expect(served.content.equals(Buffer.concat(chunks))).toBe(true);
    expect(served.holes).toBe(1);
    expect(result.holeBytes).toBe(2 * HOLE_GRANULE);
  });

  it("counts a sparse upload's granules from the volume's start when it begins at an offset", async () => {
    // Written at offset 512: the zeros fill one granule of the volume exactly.
    const chunks = [randomBytes(HOLE_GRANULE - 512), Buffer.alloc(HOLE_GRANULE), randomBytes(10)];
    const { connection, daemon } = fakeConnection();
    const [result, served] = await Promise.all([
      uploadVolume({ connection }, vol, Readable.from(chunks), { sparse: true, offset: 512 }),
      serveUpload(daemon),
    ]);
    expect(served.args.offset).toBe(512n);
    expect(served.content.equals(Buffer.concat(chunks))).toBe(true);
    expect(result.holeBytes).toBe(HOLE_GRANULE);
  });

  it("rejects with the daemon's error when the upload fails midway", async () => {
    const path = join(dir, "fails.raw");
    await writeFile(path, randomBytes(4 * MiB));
    const { connection, daemon } = fakeConnection();
    const uploading = uploadVolume({ connection }, vol, path);
    const call = await next(daemon);
    const { serial } = call.header;
    daemon.send(packet({ procedure: 208, serial }));
    await next(daemon); // the first data packet
    daemon.send(
      streamPacket(UPLOAD, serial, { status: ERROR }, diskError("No space left on device")),
    );
    const error = await uploading.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LibvirtError);
    expect(error).toMatchObject({ message: "No space left on device" });
    expect(connection.closed).toBe(false);
  });

  it("aborts the stream when the signal fires, and rejects with its reason", async () => {
    const { connection, daemon } = fakeConnection();
    const controller = new AbortController();
    async function* slow() {
      yield randomBytes(1000);
      await new Promise(() => undefined); // never another chunk
    }
    const uploading = uploadVolume({ connection }, vol, slow(), { signal: controller.signal });
    const call = await next(daemon);
    const { serial } = call.header;
    daemon.send(packet({ procedure: 208, serial }));
    await next(daemon); // the data packet
    controller.abort(new Error("changed my mind"));
    const abort = await next(daemon);
    expect(abort.header).toMatchObject({ type: MessageType.STREAM, status: ERROR, serial });
    expect(abort.payload).toHaveLength(0);
    daemon.send(streamPacket(UPLOAD, serial, { status: OK }));
    await expect(uploading).rejects.toThrow("changed my mind");
  });

  it("aborts a stream whose signal fired while it was opening", async () => {
    const { connection, daemon } = fakeConnection();
    const controller = new AbortController();
    const uploading = uploadVolume({ connection }, vol, Readable.from([Buffer.from("data")]), {
      signal: controller.signal,
    });
    const call = await next(daemon);
    controller.abort(new Error("too late"));
    const { serial } = call.header;
    daemon.send(packet({ procedure: 208, serial }));
    const abort = await next(daemon);
    expect(abort.header).toMatchObject({ type: MessageType.STREAM, status: ERROR, serial });
    daemon.send(streamPacket(UPLOAD, serial, { status: OK }));
    await expect(uploading).rejects.toThrow("too late");
  });

  it("refuses a negative or fractional offset before anything is sent", async () => {
    const { connection, daemon } = fakeConnection();
    await expect(uploadVolume({ connection }, vol, "/nonexistent", { offset: -1 })).rejects.toThrow(
      RangeError,
    );
    await expect(
      uploadVolume({ connection }, vol, "/nonexistent", { length: 0.5 }),
    ).rejects.toThrow(RangeError);
    expect(daemon.received).toHaveLength(0);
  });
});

describe("downloadVolume", () => {
  it("writes data at its offsets and leaves holes unallocated in a file, a trailing hole included", async () => {
    const { connection, daemon } = fakeConnection();
    const path = join(dir, "sparse-down.raw");
    const head = randomBytes(300 * KiB);
    const middle = randomBytes(5000);
    const size = head.length + 64 * MiB + middle.length + 32 * MiB;
    const progress: TransferProgress[] = [];
    const downloading = downloadVolume({ connection }, vol, path, {
      sparse: true,
      onProgress: (p) => progress.push(p),
    });
    await answerSizeQuery(daemon, BigInt(size));
    const { serial, args } = await acceptDownload(daemon);
    expect(args).toEqual({ vol, offset: 0n, length: 0n, flags: 1 });
    daemon.send(streamPacket(DOWNLOAD, serial, {}, head.subarray(0, STREAM_CHUNK_SIZE)));
    daemon.send(streamPacket(DOWNLOAD, serial, {}, head.subarray(STREAM_CHUNK_SIZE)));
    daemon.send(
      streamPacket(DOWNLOAD, serial, { type: MessageType.STREAM_HOLE }, encodeStreamHole(64 * MiB)),
    );
    daemon.send(streamPacket(DOWNLOAD, serial, {}, middle));
    daemon.send(
      streamPacket(DOWNLOAD, serial, { type: MessageType.STREAM_HOLE }, encodeStreamHole(32 * MiB)),
    );
    daemon.send(streamPacket(DOWNLOAD, serial, {}));
    await confirmFinish(daemon, serial);

    const result = await downloading;
    expect(result).toEqual({
      bytes: size,
      dataBytes: head.length + middle.length,
      holeBytes: 96 * MiB,
    });
    const info = await stat(path);
    expect(info.size).toBe(size);
    expect(info.blocks * 512).toBeLessThan(2 * MiB);
    const file = await open(path, "r");
    const read = async (length: number, position: number) => {
      const buffer = Buffer.alloc(length);
      await file.read(buffer, 0, length, position);
      return buffer;
    };
    expect((await read(head.length, 0)).equals(head)).toBe(true);
    expect((await read(middle.length, head.length + 64 * MiB)).equals(middle)).toBe(true);
    expect((await read(4096, size - 4096)).equals(Buffer.alloc(4096))).toBe(true);
    await file.close();
    expect(progress[progress.length - 1]).toEqual({ bytes: size, total: size });
  });

  it("writes holes as zeros to a byte stream, waiting for it to drain, then ends it", async () => {
    const { connection, daemon } = fakeConnection();
    const received: Buffer[] = [];
    let writing = 0;
    let overlapped = false;
    const sink = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _encoding, callback) {
        overlapped ||= ++writing > 1;
        received.push(Buffer.from(chunk));
        setTimeout(() => {
          writing--;
          callback();
        }, 1);
      },
    });
    const downloading = downloadVolume({ connection }, vol, sink, {
      sparse: true,
      length: 3 * MiB + 6,
    });
    const { serial, args } = await acceptDownload(daemon); // a length given: no size query
    expect(args.length).toBe(BigInt(3 * MiB + 6));
    daemon.send(streamPacket(DOWNLOAD, serial, {}, Buffer.from("abc")));
    daemon.send(
      streamPacket(DOWNLOAD, serial, { type: MessageType.STREAM_HOLE }, encodeStreamHole(3 * MiB)),
    );
    daemon.send(streamPacket(DOWNLOAD, serial, {}, Buffer.from("xyz")));
    daemon.send(streamPacket(DOWNLOAD, serial, {}));
    await confirmFinish(daemon, serial);
    await downloading;
    expect(overlapped).toBe(false);
    expect(sink.writableFinished).toBe(true);
    const all = Buffer.concat(received);
    expect(all.length).toBe(3 * MiB + 6);
    expect(all.subarray(0, 3).toString()).toBe("abc");
    expect(all.subarray(3, 3 + 3 * MiB).equals(Buffer.alloc(3 * MiB))).toBe(true);
    expect(all.subarray(-3).toString()).toBe("xyz");
  });

  it("rejects with the daemon's error and removes the file it created", async () => {
    const { connection, daemon } = fakeConnection();
    const path = join(dir, "failed-down.raw");
    const downloading = downloadVolume({ connection }, vol, path);
    await answerSizeQuery(daemon, undefined); // an old daemon: progress has no total
    const { serial } = await acceptDownload(daemon);
    daemon.send(streamPacket(DOWNLOAD, serial, {}, randomBytes(1000)));
    daemon.send(streamPacket(DOWNLOAD, serial, { status: ERROR }, diskError("Input/output error")));
    await expect(downloading).rejects.toMatchObject({
      name: "LibvirtError",
      message: "Input/output error",
    });
    await expect(stat(path)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("aborts when the destination fails, and rejects with the destination's error", async () => {
    const { connection, daemon } = fakeConnection();
    const sink = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error("destination full"));
      },
    });
    sink.on("error", () => undefined);
    const downloading = downloadVolume({ connection }, vol, sink, { length: 10 });
    const { serial } = await acceptDownload(daemon);
    daemon.send(streamPacket(DOWNLOAD, serial, {}, Buffer.from("0123456789")));
    const abort = await next(daemon);
    expect(abort.header).toMatchObject({ type: MessageType.STREAM, status: ERROR, serial });
    daemon.send(streamPacket(DOWNLOAD, serial, { status: OK }));
    await expect(downloading).rejects.toThrow("destination full");
  });
});
