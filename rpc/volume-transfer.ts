/**
 * Volume upload and download over STORAGE_VOL_UPLOAD (208) / STORAGE_VOL_DOWNLOAD (209), like
 * `virsh vol-upload` / `vol-download`:
 *
 *   await uploadVolume(lv, vol, "/images/disk.raw", { sparse: true, onProgress });
 *   await downloadVolume(lv, vol, "/backup/disk.raw", { sparse: true });
 *
 * Memory stays bounded whatever the size: an upload reads its source only as fast as the socket
 * takes the packets; a download writes to its destination with the destination's backpressure, and
 * while the destination is behind, the stream stops reading the socket (see client/stream.ts), so
 * the daemon waits. With `sparse`, holes travel as their length: an upload finds them by content
 * (hole-scanner.ts), a download to a path seeks over them and leaves them unallocated.
 */
import { open, unlink } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import type { Writable } from "node:stream";
import { callProcedure } from "./client/call";
import type { Connection } from "./client/connection";
import { Stream, StreamChunk, openStream } from "./client/stream";
import { Extent, HoleScanner } from "./hole-scanner";
import { STREAM_CHUNK_SIZE } from "./protocol/header";
import { RemoteProcedures } from "./protocol/remote";
import type { RemoteNonnullStorageVol } from "./protocol/remote/types";

/** `VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM` */
export const VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM = 1;
/** `VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM` */
export const VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM = 1;
/** `VIR_STORAGE_VOL_GET_PHYSICAL`: StorageVolGetInfoFlags reports the file size as allocation. */
const VIR_STORAGE_VOL_GET_PHYSICAL = 1;

/** Bytes read from a file per read: four full packets when dense, 1 MiB granule-aligned when sparse. */
const DENSE_READ_SIZE = 4 * STREAM_CHUNK_SIZE;
const SPARSE_READ_SIZE = 1024 * 1024;
/** Largest zero buffer written at once when a hole goes to a destination that cannot seek. */
const ZERO_WRITE_SIZE = 1024 * 1024;

/** What a transfer needs of a connection: a `Libvirt` will do. */
export interface StreamHost {
  readonly connection: Connection;
}

export interface TransferProgress {
  /** Bytes done so far, holes included. */
  bytes: number;
  /** Bytes expected in all, when known. */
  total: number | undefined;
}

export interface TransferResult {
  /** Bytes transferred, holes included: the length of the volume range or file written. */
  bytes: number;
  /** Of those, bytes that travelled as data. */
  dataBytes: number;
  /** Of those, bytes that travelled as holes. */
  holeBytes: number;
}

interface TransferOptions {
  /** Where in the volume to start, in bytes (default 0). */
  offset?: number;
  /** How many bytes at most; 0 (the default) means up to the end. */
  length?: number;
  /** Send holes as holes (`..._SPARSE_STREAM`); the daemon must support sparse streams. */
  sparse?: boolean;
  onProgress?: (progress: TransferProgress) => void;
  /** Aborts the transfer: the stream is aborted and the call rejects with the signal's reason. */
  signal?: AbortSignal;
}

export type UploadOptions = TransferOptions;
export type DownloadOptions = TransferOptions;

/** A file path, an open file (read from its current position), or any byte stream. */
export type UploadSource = string | FileHandle | AsyncIterable<Uint8Array>;
/** A file path (created or truncated), or a byte stream (ended when the download completes). */
export type DownloadDestination = string | Writable;

/**
 * Uploads `source` into `vol` (STORAGE_VOL_UPLOAD). Resolves once the daemon has confirmed that
 * every byte reached the volume; rejects with the daemon's LibvirtError if it failed, after
 * stopping at once.
 */
export async function uploadVolume(
  lv: StreamHost,
  vol: RemoteNonnullStorageVol,
  source: UploadSource,
  options: UploadOptions = {},
): Promise<TransferResult> {
  const { offset = 0, length = 0, sparse = false, signal } = options;
  checkRange(offset, length);
  signal?.throwIfAborted();
  const input = await openSource(source, length, sparse);
  try {
    const stream = await openStream(
      lv.connection,
      RemoteProcedures.StorageVolUpload,
      {
        vol,
        offset: BigInt(offset),
        length: BigInt(length),
        flags: sparse ? VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM : 0,
      },
      { direction: "send", sparse },
    );
    const progress = new Progress(input.total, options.onProgress);
    await runStream(stream, signal, async () => {
      for await (const extent of extents(input.chunks, sparse)) {
        if (extent.type === "data") await stream.send(extent.data);
        else await stream.sendHole(extent.length);
        progress.add(extent);
      }
      await stream.finish();
    });
    return progress.result();
  } finally {
    await input.close();
  }
}

/**
 * Downloads `vol` into `destination` (STORAGE_VOL_DOWNLOAD). With `sparse`, a path destination
 * gets the volume's holes as holes; a stream destination gets them as zeros. A path this call
 * created is removed again if the download fails.
 */
export async function downloadVolume(
  lv: StreamHost,
  vol: RemoteNonnullStorageVol,
  destination: DownloadDestination,
  options: DownloadOptions = {},
): Promise<TransferResult> {
  const { offset = 0, length = 0, sparse = false, signal } = options;
  checkRange(offset, length);
  signal?.throwIfAborted();
  const total = length > 0 ? length : await volumeSize(lv, vol, offset);
  const sink = await openSink(destination);
  let completed = false;
  try {
    const stream = await openStream(
      lv.connection,
      RemoteProcedures.StorageVolDownload,
      {
        vol,
        offset: BigInt(offset),
        length: BigInt(length),
        flags: sparse ? VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM : 0,
      },
      { direction: "receive", sparse },
    );
    const progress = new Progress(total, options.onProgress);
    await runStream(stream, signal, async () => {
      for (let chunk = await stream.read(); chunk; chunk = await stream.read()) {
        await sink.write(chunk);
        progress.add(chunk);
      }
      await stream.finish();
    });
    await sink.complete();
    completed = true;
    return progress.result();
  } finally {
    if (!completed) await sink.discard();
  }
}

/**
 * Runs `body` on an open stream; on failure or abort, aborts the stream and rejects. An abort does
 * not wait for `body`, which may be stuck waiting on its source or destination.
 */
async function runStream(
  stream: Stream,
  signal: AbortSignal | undefined,
  body: () => Promise<void>,
): Promise<void> {
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  const running = body();
  running.catch(() => undefined); // after an abort, its failure is of no interest
  try {
    await (signal ? Promise.race([running, aborted]) : running);
  } catch (error) {
    await stream.abort();
    throw signal?.aborted ? signal.reason : error;
  } finally {
    signal?.removeEventListener("abort", onAbort!);
  }
}

interface Source {
  chunks: AsyncIterable<Buffer>;
  total: number | undefined;
  close(): Promise<void>;
}

async function openSource(source: UploadSource, length: number, sparse: boolean): Promise<Source> {
  const readSize = sparse ? SPARSE_READ_SIZE : DENSE_READ_SIZE;
  if (typeof source === "string") {
    const file = await open(source, "r");
    try {
      const { size } = await file.stat();
      const total = length > 0 ? Math.min(length, size) : size;
      return { chunks: readFile(file, length, readSize), total, close: () => file.close() };
    } catch (error) {
      await file.close();
      throw error;
    }
  }
  if (Symbol.asyncIterator in source) {
    return {
      chunks: limit(source, length),
      total: length > 0 ? length : undefined,
      close: async () => undefined,
    };
  }
  return {
    chunks: readFile(source, length, readSize),
    total: length > 0 ? length : undefined,
    close: async () => undefined,
  };
}

/** Reads a file sequentially from its current position, in fresh buffers, up to `length` bytes. */
async function* readFile(
  file: FileHandle,
  length: number,
  readSize: number,
): AsyncGenerator<Buffer> {
  let remaining = length > 0 ? length : Infinity;
  while (remaining > 0) {
    const buffer = Buffer.allocUnsafe(Math.min(readSize, remaining));
    const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
    if (bytesRead === 0) return;
    remaining -= bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}

/** Byte chunks of an iterable as Buffers, cut off after `length` bytes (0: no limit). */
async function* limit(source: AsyncIterable<Uint8Array>, length: number): AsyncGenerator<Buffer> {
  let remaining = length > 0 ? length : Infinity;
  for await (const chunk of source) {
    if (!(chunk instanceof Uint8Array)) throw new TypeError("an upload source must yield bytes");
    const bytes = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (bytes.length >= remaining) {
      yield bytes.subarray(0, remaining);
      return;
    }
    remaining -= bytes.length;
    if (bytes.length > 0) yield bytes;
  }
}

/** Data only, or (sparse) data and holes as the hole scanner finds them. */
async function* extents(chunks: AsyncIterable<Buffer>, sparse: boolean): AsyncGenerator<Extent> {
  if (!sparse) {
    for await (const data of chunks) yield { type: "data", data };
    return;
  }
  const scanner = new HoleScanner();
  for await (const chunk of chunks) yield* scanner.push(chunk);
  yield* scanner.end();
}

interface Sink {
  write(chunk: StreamChunk): Promise<void>;
  /** All data is in: sets a file's final size (a trailing hole), or ends a stream. */
  complete(): Promise<void>;
  /** The download failed: closes, and removes a file this call created. */
  discard(): Promise<void>;
}

async function openSink(destination: DownloadDestination): Promise<Sink> {
  return typeof destination === "string" ? openFileSink(destination) : streamSink(destination);
}

/** Positional writes; holes only move the position, so they stay unallocated. */
async function openFileSink(path: string): Promise<Sink> {
  let created = true;
  let file: FileHandle;
  try {
    file = await open(path, "wx");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    created = false;
    file = await open(path, "w");
  }
  let position = 0;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await file.close();
  };
  return {
    async write(chunk) {
      if (chunk.type === "hole") {
        position += chunk.length;
        return;
      }
      let written = 0;
      while (written < chunk.data.length) {
        const { bytesWritten } = await file.write(chunk.data, written, undefined, position);
        written += bytesWritten;
        position += bytesWritten;
      }
    },
    async complete() {
      await file.truncate(position);
      await close();
    },
    async discard() {
      await close().catch(() => undefined);
      if (created) await unlink(path).catch(() => undefined);
    },
  };
}

/** Sequential writes with the stream's backpressure; holes become zeros. */
function streamSink(destination: Writable): Sink {
  let zeros: Buffer | undefined;
  const write = async (data: Buffer) => {
    if (destination.destroyed) throw new Error("the download destination was destroyed");
    if (!destination.write(data)) await whenWritable(destination, "drain");
  };
  return {
    async write(chunk) {
      if (chunk.type === "data") return write(chunk.data);
      zeros ??= Buffer.alloc(ZERO_WRITE_SIZE);
      for (let left = chunk.length; left > 0; left -= ZERO_WRITE_SIZE) {
        await write(left >= ZERO_WRITE_SIZE ? zeros : zeros.subarray(0, left));
      }
    },
    async complete() {
      destination.end();
      await whenWritable(destination, "finish");
    },
    async discard() {
      // The caller owns the stream; it is left as it is, short of the missing data.
    },
  };
}

/** Resolves on `event`; rejects if the stream errors or closes first. */
function whenWritable(stream: Writable, event: "drain" | "finish"): Promise<void> {
  if (event === "finish" && stream.writableFinished) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      stream.off(event, onEvent);
      stream.off("error", onError);
      stream.off("close", onClose);
    };
    const onEvent = () => {
      cleanup();
      resolve();
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      cleanup();
      reject(new Error(`the download destination closed before ${event}`));
    };
    stream.on(event, onEvent);
    stream.on("error", onError);
    stream.on("close", onClose);
  });
}

/** Bytes a download from `offset` will bring, if the daemon can tell (the file size, for files). */
async function volumeSize(
  lv: StreamHost,
  vol: RemoteNonnullStorageVol,
  offset: number,
): Promise<number | undefined> {
  try {
    const info = await callProcedure(lv.connection, RemoteProcedures.StorageVolGetInfoFlags, {
      vol,
      flags: VIR_STORAGE_VOL_GET_PHYSICAL,
    });
    return Math.max(0, Number(info.allocation) - offset);
  } catch {
    return undefined; // progress then has no total; the download itself does not need one
  }
}

class Progress {
  private dataBytes = 0;
  private holeBytes = 0;

  constructor(
    private readonly total: number | undefined,
    private readonly onProgress: ((progress: TransferProgress) => void) | undefined,
  ) {}

  add(extent: Extent | StreamChunk): void {
    if (extent.type === "data") this.dataBytes += extent.data.length;
    else this.holeBytes += extent.length;
    this.onProgress?.({ bytes: this.dataBytes + this.holeBytes, total: this.total });
  }

  result(): TransferResult {
    return {
      bytes: this.dataBytes + this.holeBytes,
      dataBytes: this.dataBytes,
      holeBytes: this.holeBytes,
    };
  }
}

function checkRange(offset: number, length: number): void {
  for (const [name, value] of [
    ["offset", offset],
    ["length", length],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`${name} must be a non-negative whole number of bytes, not ${value}`);
    }
  }
}
