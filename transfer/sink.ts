/**
 * Where a download's bytes go: a file written at offsets, so holes stay holes, or a Writable, with
 * its backpressure (holes written as zeros).
 */
import { open, unlink } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import type { Writable } from "node:stream";
import type { StreamChunk } from "../rpc/internal";

/** Largest zero buffer written at once when a hole goes to a destination that cannot seek. */
const ZERO_WRITE_SIZE = 1024 * 1024;

/** A file path (created or truncated), or a byte stream (ended when the download completes). */
export type DownloadDestination = string | Writable;

export interface Sink {
  write(chunks: StreamChunk[]): Promise<void>;
  /** All data is in: sets a file's final size (a trailing hole), or ends a stream. */
  complete(): Promise<void>;
  /** The download failed: closes, and removes a file this call created. */
  discard(): Promise<void>;
}

/** Mode of a file a download creates: its owner's only, as a guest's disk may hold keys. */
const FILE_MODE = 0o600;

export async function openSink(
  destination: DownloadDestination,
  options: { exclusive?: boolean } = {},
): Promise<Sink> {
  return typeof destination === "string"
    ? openFileSink(destination, options.exclusive ?? false)
    : streamSink(destination);
}

/**
 * Positional writes; holes only move the position, so they stay unallocated. `exclusive`: the
 * file must be new (EEXIST otherwise, and the file there is not touched); else a file already
 * there is overwritten (and keeps its mode).
 */
async function openFileSink(path: string, exclusive: boolean): Promise<Sink> {
  let created = true;
  let file: FileHandle;
  try {
    file = await open(path, "wx", FILE_MODE);
  } catch (error) {
    if (exclusive || (error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    created = false;
    file = await open(path, "w");
  }
  let position = 0;
  // FileHandle.close() may be called again: once closed, it resolves at once.
  return {
    async write(chunks) {
      // Runs of data go out in one writev each; a hole only moves the position.
      for (let index = 0; index < chunks.length;) {
        const chunk = chunks[index]!;
        if (chunk.type === "hole") {
          position += chunk.length;
          index++;
          continue;
        }
        const run: Buffer[] = [];
        for (let next = chunks[index]; next?.type === "data"; next = chunks[++index]) {
          run.push(next.data);
        }
        position = await writeAt(file, run, position);
      }
    },
    async complete() {
      await file.truncate(position);
      await file.close();
    },
    async discard() {
      await file.close().catch(() => undefined);
      if (created) await unlink(path).catch(() => undefined);
    },
  };
}

/** Writes `buffers` at `position` with writev, finishing a short write; returns the new position. */
async function writeAt(file: FileHandle, buffers: Buffer[], position: number): Promise<number> {
  const total = buffers.reduce((sum, buffer) => sum + buffer.length, 0);
  const { bytesWritten } = await file.writev(buffers, position);
  if (bytesWritten === total) return position + total;
  let rest = Buffer.concat(buffers).subarray(bytesWritten); // a short write: rare, so one copy
  position += bytesWritten;
  while (rest.length > 0) {
    const { bytesWritten: written } = await file.write(rest, 0, rest.length, position);
    rest = rest.subarray(written);
    position += written;
  }
  return position;
}

/** Sequential writes with the stream's backpressure; holes become zeros. */
function streamSink(destination: Writable): Sink {
  let zeros: Buffer | undefined;
  const write = async (data: Buffer) => {
    if (destination.destroyed) throw new Error("the download destination was destroyed");
    if (!destination.write(data)) await whenWritable(destination, "drain");
  };
  return {
    async write(chunks) {
      for (const chunk of chunks) {
        if (chunk.type === "data") {
          await write(chunk.data);
          continue;
        }
        zeros ??= Buffer.alloc(ZERO_WRITE_SIZE);
        for (let left = chunk.length; left > 0; left -= ZERO_WRITE_SIZE) {
          await write(left >= ZERO_WRITE_SIZE ? zeros : zeros.subarray(0, left));
        }
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
