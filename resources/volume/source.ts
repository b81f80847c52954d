/**
 * A Volume's `source` as bytes: a file on the machine running Pulumi or an http(s) download, with
 * its size when known and its first bytes read ahead (to tell a qcow2 image from raw content before
 * the volume is created). `measure()` then passes the bytes on to the upload while hashing them,
 * counting them against the expected size and reporting progress.
 */
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { FileReader } from "../../rpc/internal";
import type { VolumeSource } from "../kit/generated/types";
import { httpGet, redactUrl } from "./http-source";
import { IMAGE_HEADER_BYTES } from "./image-format";

export interface ContentSource {
  /** How messages name it: the file's path, or the URL without credentials or query. */
  label: string;
  /** Bytes in all, when known (a file's size, Content-Length). */
  size: number | undefined;
  /** The first IMAGE_HEADER_BYTES bytes (all of them, for shorter content). */
  header: Buffer;
  /** Every byte from the start, header included; to be read once. */
  chunks: AsyncIterable<Buffer>;
  /** Releases the file or the connection; safe to call at any time, and more than once. */
  close(): Promise<void>;
}

export async function openContentSource(source: VolumeSource): Promise<ContentSource> {
  if (source.path !== undefined) return openFileSource(resolve(source.path));
  if (source.url !== undefined) return openUrlSource(source.url);
  throw new Error("source needs a path or a url");
}

async function openFileSource(path: string): Promise<ContentSource> {
  // Uploads are sparse: a file that is mostly holes is read with O_DIRECT (rpc/file-reader.ts).
  const file = await FileReader.open(path, { sparse: true }).catch(
    (error: NodeJS.ErrnoException) => {
      throw new Error(`cannot read source.path ${path}: ${error.message}`, { cause: error });
    },
  );
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await file.close();
  };
  try {
    const { head, rest } = await peek(file.chunks(), IMAGE_HEADER_BYTES);
    return { label: path, size: file.size, header: head, chunks: rest, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function openUrlSource(url: string): Promise<ContentSource> {
  const response = await httpGet(url);
  const close = async () => {
    response.body.destroy();
  };
  try {
    const { head, rest } = await peek(response.body as AsyncIterable<Buffer>, IMAGE_HEADER_BYTES);
    return { label: redactUrl(url), size: response.size, header: head, chunks: rest, close };
  } catch (error) {
    await close();
    throw new Error(`downloading ${redactUrl(url)} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * Reads chunks until `bytes` are in (or the content ends) and returns them, with an iterable that
 * yields everything from the start: the chunks read ahead, then the rest. Chunks read ahead are
 * copied, as a source may reuse its buffer for the next chunk (rpc's FileReader does).
 */
export async function peek(
  source: AsyncIterable<Buffer>,
  bytes: number,
): Promise<{ head: Buffer; rest: AsyncIterable<Buffer> }> {
  const iterator = source[Symbol.asyncIterator]();
  const ahead: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < bytes) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    ahead.push(Buffer.from(next.value));
    length += next.value.length;
  }
  async function* rest(): AsyncGenerator<Buffer> {
    yield* ahead;
    if (done) return;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      yield next.value;
    }
  }
  return { head: Buffer.concat(ahead).subarray(0, bytes), rest: rest() };
}

export interface MeasureOptions {
  label: string;
  /** The content must have exactly this many bytes (a file's size, Content-Length). */
  expectedSize?: number;
  /** The content must not have more than this many bytes (the volume's size). */
  limit?: number;
  /** Expected SHA-256 in hex; a mismatch fails the last read, before the upload completes. */
  sha256?: string;
  onBytes?: (bytes: number) => void;
}

export interface Measured {
  chunks: AsyncIterable<Buffer>;
  /** Once the chunks are read to the end: the SHA-256 (hex) and byte count. */
  result(): { sha256: string; bytes: number };
}

export class ChecksumMismatchError extends Error {
  override name = "ChecksumMismatchError";
  constructor(
    label: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `the content of ${label} does not match source.sha256: expected ${expected}, got ${actual}`,
    );
  }
}

/** The content goes past the volume's capacity (measure's `limit`). */
export class ContentTooLargeError extends Error {
  override name = "ContentTooLargeError";
}

/** Passes `chunks` through, hashing and counting them and enforcing the options' rules. */
export function measure(chunks: AsyncIterable<Buffer>, options: MeasureOptions): Measured {
  const hash = createHash("sha256");
  let bytes = 0;
  let digest: string | undefined;
  async function* pass(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of chunks) {
        bytes += chunk.length;
        if (options.limit !== undefined && bytes > options.limit) {
          throw new ContentTooLargeError(
            `${options.label} is larger than the volume's capacity of ${options.limit} bytes: raise capacity`,
          );
        }
        hash.update(chunk);
        options.onBytes?.(bytes);
        yield chunk;
      }
    } catch (error) {
      if (error instanceof ContentTooLargeError) throw error;
      throw new Error(`reading ${options.label} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (options.expectedSize !== undefined && bytes !== options.expectedSize) {
      throw new Error(
        `${options.label} ended after ${bytes} of ${options.expectedSize} bytes (${bytes < options.expectedSize ? "a broken download or a file that shrank" : "a file that grew"} while uploading)`,
      );
    }
    digest = hash.digest("hex");
    const expected = options.sha256?.toLowerCase();
    if (expected !== undefined && expected !== digest) {
      throw new ChecksumMismatchError(options.label, expected, digest);
    }
  }
  return {
    chunks: pass(),
    result: () => {
      if (digest === undefined) throw new Error(`${options.label} was not read to the end`);
      return { sha256: digest, bytes };
    },
  };
}
