/**
 * A whole transfer over one stream, in the manner of libvirt's virStreamSparseSendAll and
 * virStreamSparseRecvAll (src/libvirt-stream.c): the caller says where the bytes come from or go
 * to, and the stream does the rest: data as STREAM packets, holes as STREAM_HOLE packets, the
 * finish and its confirmation, or on any failure the abort and its answer.
 *
 * libvirt's sender pulls from three callbacks: the hole handler says whether the source stands in
 * data or in a hole and for how long (lseek SEEK_DATA/SEEK_HOLE), the data handler reads data, the
 * skip handler skips a hole in the source. Here the source is one iterable of extents in order,
 * `{ type: "data", data }` and `{ type: "hole", length }`: holes are found by reading the content
 * (transfer/hole-scanner.ts), so asking where a hole ends and skipping it are one step.
 *
 * libvirt's receiver pushes into two: the data handler (virStreamSinkFunc) writes data and the hole
 * handler (virStreamSinkHoleFunc) skips a hole in the destination. Here one sink takes both, every
 * extent received so far at once and in order, so a file can write a run of data with one writev.
 */
import type { StreamChunk } from "./receive-queue";

/** What sendAll and receiveAll ask of a stream (a Stream is one). */
export interface WholeStream {
  send(data: Uint8Array): Promise<void>;
  sendHole(length: number): Promise<void>;
  readAvailable(): Promise<StreamChunk[] | null>;
  finish(): Promise<void>;
  abort(): Promise<void>;
}

/** What `sendAll` sends: data and (on a sparse stream) holes, in order. */
export type StreamSource = AsyncIterable<StreamChunk> | Iterable<StreamChunk>;

/** Where `receiveAll` puts what arrives: data to write, holes to skip or fill, in order. */
export type StreamSink = (extents: StreamChunk[]) => Promise<void>;

export interface WholeStreamOptions {
  /** Aborts the transfer: the stream is aborted and the call rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** virStreamSparseSendAll: sends every extent of `source`, then the finish, and awaits its confirmation. */
export async function sendAll(
  stream: WholeStream,
  source: StreamSource,
  { signal }: WholeStreamOptions = {},
): Promise<void> {
  await runToEnd(stream, signal, async () => {
    for await (const extent of source) {
      if (extent.type === "data") await stream.send(extent.data);
      else await stream.sendHole(extent.length);
    }
    await stream.finish();
  });
}

/** virStreamSparseRecvAll: hands everything received to `sink` until the end of data, then finishes. */
export async function receiveAll(
  stream: WholeStream,
  sink: StreamSink,
  { signal }: WholeStreamOptions = {},
): Promise<void> {
  await runToEnd(stream, signal, async () => {
    for (let extents = await stream.readAvailable(); extents;) {
      await sink(extents);
      extents = await stream.readAvailable();
    }
    await stream.finish();
  });
}

/**
 * Runs `body` on an open stream; on failure or abort, aborts the stream and rejects. An abort does
 * not wait for `body`, which may be stuck waiting on its source or destination.
 */
async function runToEnd(
  stream: WholeStream,
  signal: AbortSignal | undefined,
  body: () => Promise<void>,
): Promise<void> {
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  // A signal that fired while the stream was opening stops it before any data goes out.
  const running = signal?.aborted ? Promise.reject(signal.reason) : body();
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
