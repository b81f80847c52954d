/**
 * Opening a stream: the stream call (STORAGE_VOL_UPLOAD and the like) goes out with its Stream
 * already registered for the call's serial, so stream packets that beat the REPLY are kept.
 */
import type { Procedure } from "../protocol/program";
import { callProcedure } from "./call";
import type { Connection } from "./connection";
import { validateTimeout } from "./deadlines";
import { OpenStreamOptions, Stream } from "./stream";

/**
 * Sends the stream call `procedure` and resolves with its stream once the server has answered
 * the call. A failed call rejects with its LibvirtError, and no stream exists.
 */
export async function openStream<A>(
  connection: Connection,
  procedure: Procedure<A, unknown>,
  args: A,
  options: OpenStreamOptions,
): Promise<Stream> {
  if (options.idleTimeoutMs !== undefined) validateTimeout("idleTimeoutMs", options.idleTimeoutMs);
  let stream: Stream | undefined;
  try {
    await callProcedure(connection, procedure, args, {
      onSerial: (serial) => {
        stream = new Stream(connection, procedure, serial, options);
      },
    });
  } catch (error) {
    // A call given up on may still be answered: the stream then waits to abort what it opens.
    if (stream && connection.awaitsLateReply(stream.serial)) stream.orphan(error as Error);
    else stream?.dispose(error as Error);
    throw error;
  }
  return stream!;
}
