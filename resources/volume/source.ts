/**
 * A Volume's `source` as bytes: a file on the machine running Pulumi or an http(s) download
 * (opened by transfer/), with its size when known and its first bytes read ahead (to tell a qcow2
 * image from raw content before the volume is created). transfer/'s `measure()` then passes the
 * bytes on to the upload (upload.ts) while hashing them and checking their size.
 */
import { resolve } from "node:path";
import { Source, openSource, peek, redactUrl } from "../../transfer";
import type { VolumeSource } from "../kit/generated/types";
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
  // Uploads are sparse: a file that is mostly holes is read with O_DIRECT (transfer/file-reader.ts).
  const file = await openSource(path, 0, true).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`cannot read source.path ${path}: ${error.message}`, { cause: error });
  });
  return readAhead(path, file, (error) => error);
}

async function openUrlSource(url: string): Promise<ContentSource> {
  const label = redactUrl(url);
  const body = await openSource(new URL(url), 0, true);
  return readAhead(label, body, (error) => {
    return new Error(`downloading ${label} failed: ${(error as Error).message}`, { cause: error });
  });
}

/** The content source of `source`, its first bytes read; a failure closes it, `reword`ed. */
async function readAhead(
  label: string,
  source: Source,
  reword: (error: unknown) => unknown,
): Promise<ContentSource> {
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await source.close();
  };
  try {
    const { head, rest } = await peek(source.chunks, IMAGE_HEADER_BYTES);
    return { label, size: source.total, header: head, chunks: rest, close };
  } catch (error) {
    await close();
    throw reword(error);
  }
}
