/**
 * Where an upload's bytes come from: a file, read in large blocks (file-reader.ts), an open file,
 * an http(s) download (http.ts) or any byte stream; and, for a sparse upload, the data and hole
 * extents in them (hole-scanner.ts).
 */
import type { FileHandle } from "node:fs/promises";
import type { StreamChunk } from "../rpc/internal";
import { FileReader, bufferedReadSize } from "./file-reader";
import { HOLE_GRANULE, HoleScanner } from "./hole-scanner";
import { httpGet } from "./http";

/**
 * A file path, an open file (read from its current position), an http(s) URL (downloaded) or any
 * byte stream.
 */
export type UploadSource = string | URL | FileHandle | AsyncIterable<Uint8Array>;

/** An upload's input: its bytes in chunks, its size if known, and what to release after. */
export interface Source {
  /**
   * The bytes, in order. A chunk is valid only until the next one is asked for: a file is read
   * into a few buffers in turn (file-reader.ts). The upload is done with a chunk by then,
   * since a stream send resolves only once the transport copied or wrote it (rpc's Connection.write).
   */
  chunks: AsyncIterable<Buffer>;
  total: number | undefined;
  close(): Promise<void>;
}

/** Opens an upload source, reading at most `length` bytes (0: all of it). */
export async function openSource(
  source: UploadSource,
  length: number,
  sparse: boolean,
): Promise<Source> {
  if (typeof source === "string") {
    const file = await FileReader.open(source, { sparse });
    const total = length > 0 ? Math.min(length, file.size) : file.size;
    return { chunks: file.chunks(length), total, close: () => file.close() };
  }
  if (source instanceof URL) {
    const { body, size } = await httpGet(source.href);
    const total = length > 0 && size !== undefined ? Math.min(length, size) : size;
    return { chunks: limit(body, length), total, close: async () => void body.destroy() };
  }
  return {
    chunks:
      Symbol.asyncIterator in source
        ? limit(source, length)
        : readFile(source, length, bufferedReadSize(sparse)),
    total: length > 0 ? length : undefined,
    close: async () => undefined, // the caller's stream or open file: theirs to close
  };
}

/**
 * Reads an open file sequentially from its current position, up to `length` bytes, `readSize` at
 * a time, always into the same buffer (a fresh buffer per read is new memory for the kernel to map
 * and zero each time).
 */
async function* readFile(
  file: FileHandle,
  length: number,
  readSize: number,
): AsyncGenerator<Buffer> {
  let remaining = length > 0 ? length : Infinity;
  const buffer = Buffer.allocUnsafeSlow(Math.min(readSize, remaining));
  while (remaining > 0) {
    const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, remaining), null);
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

/**
 * Data only, or (sparse) data and holes as the hole scanner finds them, its granules counted from
 * the volume's start for an upload that begins at `offset` in the volume.
 */
export async function* extents(
  chunks: AsyncIterable<Buffer>,
  sparse: boolean,
  offset = 0,
): AsyncGenerator<StreamChunk> {
  if (!sparse) {
    for await (const data of chunks) yield { type: "data", data };
    return;
  }
  const scanner = new HoleScanner(HOLE_GRANULE, offset);
  for await (const chunk of chunks) yield* scanner.push(chunk);
  yield* scanner.end();
}
