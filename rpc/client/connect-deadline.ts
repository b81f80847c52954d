/**
 * The one deadline of opening a connection: dialing, the transport's handshakes and the connection
 * sequence all watch a single AbortSignal. It aborts when `timeoutMs` have passed, with a
 * ConnectionClosedError naming the URI, or when the caller's own signal aborts, with its reason.
 */
import { ConnectionClosedError } from "../errors";

export interface ConnectDeadline {
  readonly signal: AbortSignal;
  /** Stops the timer and lets go of the caller's signal; call it once connecting ended. */
  done(): void;
}

/** `where` names the connection in the message (a redacted URI). */
export function connectDeadline(
  where: string,
  timeoutMs: number,
  callerSignal?: AbortSignal,
): ConnectDeadline {
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(
        new ConnectionClosedError(`connecting to ${where} timed out after ${timeoutMs} ms`),
      ),
    timeoutMs,
  );
  const onCallerAbort = () => controller.abort(callerSignal!.reason);
  if (callerSignal?.aborted) onCallerAbort();
  else callerSignal?.addEventListener("abort", onCallerAbort, { once: true });
  return {
    signal: controller.signal,
    done() {
      clearTimeout(timer);
      callerSignal?.removeEventListener("abort", onCallerAbort);
    },
  };
}

/** The reason an AbortSignal carries, as an Error. */
export function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new ConnectionClosedError("connecting was aborted");
}

/**
 * Settles like `work`, or rejects with the signal's reason once it aborts, whichever comes first.
 * A value `work` still delivers after the abort is handed to `discard` (e.g. a socket to close).
 */
export function untilAborted<T>(
  work: Promise<T>,
  signal: AbortSignal,
  discard?: (late: T) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.then(discard, () => undefined);
      reject(abortReason(signal));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    // After an abort the promise has settled already, and these change nothing.
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
