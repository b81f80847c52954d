/**
 * Content on its way to a volume: `peek` reads its first bytes ahead (to tell a qcow2 image from
 * raw content before the volume is created), `measure` passes it on while hashing it and checking
 * its size against the size announced and the volume's capacity: the one size limit of an upload.
 */
import { createHash } from "node:crypto";

/**
 * Reads chunks until `bytes` are in (or the content ends) and returns them, with an iterable that
 * yields everything from the start: the chunks read ahead, then the rest. Chunks read ahead are
 * copied, as a source may reuse its buffer for the next chunk (file-reader.ts does).
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

/** Passes `chunks` through, hashing and counting them and enforcing the options' size rules. */
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
