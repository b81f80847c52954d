/**
 * The calls of one connection that wait for their REPLY, by serial, each watched by its deadline
 * (deadlines.ts) and AbortSignal; and the calls given up on, whose REPLY may still come.
 *
 * A call given up on rejects at once; its serial stays reserved until its REPLY arrives, which is
 * then dropped, since a REPLY nobody waits for is otherwise a protocol error. The connection stays
 * usable, as with libvirt's own client (which never gives up on a call, but discards replies it
 * does not want). If the daemon never answers, the entry stays: one small object per call that
 * missed a deadline of minutes.
 */
import type { Header } from "../protocol/header";
import type { Program } from "../protocol/program";
import { watchCall } from "./deadlines";

export interface PendingCall {
  program: Program;
  procedure: number;
  /** libvirt's name of the procedure, for messages. */
  name: string;
  resolve(payload: Buffer): void;
  reject(error: Error): void;
}

export interface CallWatch {
  /** Milliseconds to wait for the reply; 0: forever. */
  timeoutMs: number;
  /** What the call fails with when the time is up. */
  timeoutError: (timeoutMs: number) => Error;
  signal: AbortSignal | undefined;
}

/** A waiting call and what stops its watch. */
interface Watched {
  call: PendingCall;
  release: () => void;
}

export class PendingCalls {
  private readonly waiting = new Map<number, Watched>();
  private readonly abandoned = new Map<number, PendingCall>();

  /** `excused()`: true while a deadline should not count (we stopped reading ourselves). */
  constructor(private readonly excused: () => boolean) {}

  /** Calls waiting for their reply. */
  get size(): number {
    return this.waiting.size;
  }

  /** True while `serial` may not be given to a new call. */
  inUse(serial: number): boolean {
    return this.waiting.has(serial) || this.abandoned.has(serial);
  }

  /** True when the call with `serial` was given up on and its reply has not come yet. */
  abandonedAwaitingReply(serial: number): boolean {
    return this.abandoned.has(serial);
  }

  add(serial: number, call: PendingCall, watch: CallWatch): void {
    // Objects of one fixed shape each, no spreads: this runs for every call.
    const release = watchCall({
      timeoutMs: watch.timeoutMs,
      signal: watch.signal,
      timeoutError: watch.timeoutError,
      giveUp: (reason) => this.abandon(serial, reason),
      excused: this.excused,
    });
    this.waiting.set(serial, { call, release });
  }

  get(serial: number): PendingCall | undefined {
    return this.waiting.get(serial)?.call;
  }

  /** Removes the call (its reply came, or it could not be sent) and stops watching it. */
  take(serial: number): PendingCall | undefined {
    const watched = this.waiting.get(serial);
    if (!watched) return undefined;
    this.waiting.delete(serial);
    watched.release();
    return watched.call;
  }

  /** True if `header` is the late reply of a call given up on; the serial is then free again. */
  takeLateReply(header: Header): boolean {
    const call = this.abandoned.get(header.serial);
    if (call?.program.number !== header.program || call.procedure !== header.procedure) {
      return false;
    }
    this.abandoned.delete(header.serial);
    return true;
  }

  /** Rejects every waiting call with `reason` (the connection closed). */
  failAll(reason: Error): void {
    for (const { call, release } of this.waiting.values()) {
      release();
      call.reject(reason);
    }
    this.waiting.clear();
    this.abandoned.clear();
  }

  private abandon(serial: number, reason: Error): void {
    const call = this.take(serial);
    if (!call) return;
    this.abandoned.set(serial, call);
    call.reject(reason);
  }
}
