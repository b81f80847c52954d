/**
 * The common part of the socket transports: wait for a socket to connect (or, for TLS, to finish
 * its handshake), turn a failure into a typed error, and give up when the caller aborts.
 */
import type { Socket } from "node:net";
import { abortReason } from "../client/connect-deadline";

export function connectSocket<S extends Socket>(
  socket: S,
  readyEvent: "connect" | "secureConnect",
  signal: AbortSignal | undefined,
  describeError: (error: NodeJS.ErrnoException) => Error,
): Promise<S> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      socket.off("error", onError);
      socket.off(readyEvent, onReady);
      signal?.removeEventListener("abort", onAbort);
    };
    const onError = (error: NodeJS.ErrnoException) => {
      cleanup();
      socket.destroy();
      reject(describeError(error));
    };
    const onReady = () => {
      cleanup();
      resolve(socket);
    };
    const onAbort = () => {
      cleanup();
      socket.destroy();
      reject(abortReason(signal!));
    };
    if (signal?.aborted) return onAbort();
    socket.once("error", onError);
    socket.once(readyEvent, onReady);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
