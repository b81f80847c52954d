/**
 * Deadlines: how long the client waits for the daemon before it gives up. libvirt's own client
 * waits for a reply forever, and keepalive only notices a daemon that stopped answering anything;
 * a daemon that answers PINGs but never one call, or never ends a stream, would hang its caller.
 *
 *   callTimeoutMs        a call's REPLY; then the call fails with CallTimeoutError
 *   longCallTimeoutMs    the same for LONG_PROCEDURES, which copy or write whole volumes or guest
 *                        memory, and for the confirmation of a stream's finish (the daemon's
 *                        iohelper runs fdatasync on the volume before an upload is confirmed)
 *   streamIdleTimeoutMs  a stream waiting on the daemon (for data, for room to send, for the
 *                        answer to an abort) with nothing from it; then StreamTimeoutError
 *
 * The defaults are generous on purpose: giving up on a slow call that would have succeeded costs a
 * failed `pulumi up` and perhaps a half-done change; waiting a few minutes more for a stuck daemon
 * costs only the wait. The daemon itself gives up on a domain's job lock after 30 s
 * (VIR_JOB_WAIT_TIME), so an ordinary call still unanswered after ten times that is stuck, not
 * slow. An hour for the long ones covers cloning or wiping a few hundred GB at disk speed.
 *
 * 0 means no deadline. Timers are unref'd: a deadline never keeps the process alive.
 */
import type { StreamTimeoutError } from "../errors";
import type { Procedure } from "../protocol/program";
import { RemoteProcedures, RemoteProgram } from "../protocol/remote";

export interface Deadlines {
  /** Milliseconds to wait for a call's reply (default 5 minutes). */
  callTimeoutMs: number;
  /** Milliseconds for LONG_PROCEDURES and a stream's finish (default 1 hour). */
  longCallTimeoutMs: number;
  /** Milliseconds a stream waits on the daemon with nothing from it (default 5 minutes). */
  streamIdleTimeoutMs: number;
}

export const DEFAULT_DEADLINES: Readonly<Deadlines> = {
  callTimeoutMs: 5 * 60_000,
  longCallTimeoutMs: 60 * 60_000,
  streamIdleTimeoutMs: 5 * 60_000,
};

/**
 * Procedures whose reply legitimately takes minutes: they copy, write or scan whole volumes
 * (a clone, a wipe, a preallocated or zeroed volume, a pool build that formats, a refresh that
 * probes every volume), mount remote storage, or save or restore guest memory (DomainCreate
 * restores a managed-save image when there is one). DomainShutdown is not among them: it returns
 * once the guest was asked; waiting for the guest to stop is the caller's business.
 */
export const LONG_PROCEDURES: ReadonlySet<string> = new Set<keyof typeof RemoteProcedures>([
  "ConnectFindStoragePoolSources",
  "DomainCreate",
  "DomainCreateWithFlags",
  "DomainCreateXML",
  "DomainManagedSave",
  "StoragePoolBuild",
  "StoragePoolCreate",
  "StoragePoolCreateXML",
  "StoragePoolDelete",
  "StoragePoolRefresh",
  "StorageVolCreateXML",
  "StorageVolCreateXMLFrom",
  "StorageVolDelete",
  "StorageVolResize",
  "StorageVolWipe",
  "StorageVolWipePattern",
]);

/** The connection's deadline for a call of `procedure`, and the option that sets it. */
export function callDeadline(
  deadlines: Deadlines,
  procedure: Procedure<unknown, unknown>,
): { timeoutMs: number; option: string } {
  return procedure.program.number === RemoteProgram.number && LONG_PROCEDURES.has(procedure.name)
    ? { timeoutMs: deadlines.longCallTimeoutMs, option: "longCallTimeoutMs" }
    : { timeoutMs: deadlines.callTimeoutMs, option: "callTimeoutMs" };
}

/**
 * A stream's deadline while it waits for `waitingFor`, and the option that sets it: a finish is
 * confirmed once the daemon flushed the volume, which may take as long as a long call.
 */
export function streamDeadline(
  deadlines: Deadlines,
  waitingFor: StreamTimeoutError["waitingFor"],
  idleTimeoutMs = deadlines.streamIdleTimeoutMs,
): { timeoutMs: number; option: string } {
  return waitingFor === "the finish to be confirmed"
    ? { timeoutMs: deadlines.longCallTimeoutMs, option: "longCallTimeoutMs" }
    : { timeoutMs: idleTimeoutMs, option: "streamIdleTimeoutMs" };
}

/** setTimeout's limit: a longer delay would fire after 1 ms. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Throws a RangeError naming the first deadline that is not a whole number of ms in range. */
export function validateDeadlines(deadlines: Partial<Deadlines>): void {
  for (const [name, value] of Object.entries(deadlines)) {
    if (value === undefined) continue;
    validateTimeout(name, value);
  }
}

export function validateTimeout(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_TIMEOUT_MS) {
    throw new RangeError(
      `${name} must be a whole number of milliseconds from 0 (no deadline) to ${MAX_TIMEOUT_MS}, not ${value}`,
    );
  }
}

/**
 * Calls `expire` once `ms` have passed, unless the returned function is called first; `ms` 0
 * never expires. If `excused()` holds when the time is up, the wait was not the daemon's fault
 * (we stopped reading the socket ourselves: a slow stream consumer's backpressure), and the
 * deadline starts over, as keepalive does not count such silence either.
 */
export function startDeadline(ms: number, expire: () => void, excused?: () => boolean): () => void {
  if (ms === 0) return noop;
  let timer: NodeJS.Timeout;
  const arm = () => {
    timer = setTimeout(() => (excused?.() ? arm() : expire()), ms).unref();
  };
  arm();
  return () => clearTimeout(timer);
}

/**
 * Watches one call: once `timeoutMs` passed or `signal` fired, `giveUp` gets the reason. Returns
 * what stops watching, for when the reply came first.
 */
export function watchCall(watch: {
  timeoutMs: number;
  signal: AbortSignal | undefined;
  timeoutError: (timeoutMs: number) => Error;
  giveUp: (reason: Error) => void;
  excused: () => boolean;
}): () => void {
  const { timeoutMs, signal, giveUp } = watch;
  const stopDeadline = startDeadline(
    timeoutMs,
    () => giveUp(watch.timeoutError(timeoutMs)),
    watch.excused,
  );
  if (!signal) return stopDeadline;
  const onAbort = () => giveUp(signal.reason as Error);
  signal.addEventListener("abort", onAbort, { once: true });
  return () => {
    stopDeadline();
    signal.removeEventListener("abort", onAbort);
  };
}

function noop(): void {}
