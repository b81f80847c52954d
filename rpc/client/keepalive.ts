/**
 * KeepAlive: notices a daemon that stopped answering (libvirt's virKeepAlive, src/rpc/virkeepalive.c).
 *
 * Anything received from the peer counts as a sign of life, not only PONGs. After `interval`
 * seconds of silence a PING is sent, and another after each further silent interval; once `count`
 * PINGs went unanswered and one more interval passes, the peer is declared dead. So a daemon that
 * froze is detected after `interval × (count + 1)` seconds of silence, as libvirt documents for
 * virConnectSetKeepAlive (count 0: dead after one silent interval, no PING sent).
 *
 * The supervisor only knows two small interfaces, so tests can drive it with fake timers: a peer
 * ({sendPing, onDead}) and timers ({now, setTimeout, clearTimeout}). Its timers are unref'd and never
 * keep the process alive.
 */
import type { Duplex } from "node:stream";
import { KeepaliveTimeoutError } from "../errors";
import { MessageStatus, MessageType } from "../protocol/header";
import { KeepaliveProcedure, KeepaliveProgram } from "../protocol/keepalive-program";
import type { Connection } from "./connection";

export interface KeepAliveOptions {
  /** Seconds of silence before a PING is sent, and between PINGs (libvirt's default 5). */
  interval: number;
  /** Unanswered PINGs tolerated before the peer is declared dead (libvirt's default 5). */
  count: number;
}

export const DEFAULT_KEEPALIVE: KeepAliveOptions = { interval: 5, count: 5 };

export interface KeepAlivePeer {
  /** Sends one keepalive PING to the peer. */
  sendPing(): void;
  /** Called once, when the peer is declared dead. */
  onDead(error: KeepaliveTimeoutError): void;
  /**
   * True while we ourselves stopped reading (a slow stream consumer's backpressure): the silence
   * then says nothing about the peer, so it is not counted.
   */
  readingPaused?(): boolean;
}

export type TimerHandle = unknown;

export interface KeepAliveTimers {
  /** A monotonic clock in milliseconds. */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Node's timers, unref'd so a quiet connection never keeps the process running. */
export const systemTimers: KeepAliveTimers = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class KeepAlive {
  private readonly intervalMs: number;
  private lastReceived = 0;
  private unansweredPings = 0;
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(
    private readonly peer: KeepAlivePeer,
    private readonly options: KeepAliveOptions = DEFAULT_KEEPALIVE,
    private readonly timers: KeepAliveTimers = systemTimers,
  ) {
    validateKeepAliveOptions(options);
    this.intervalMs = options.interval * 1000;
  }

  /** Starts watching; the silence is measured from now. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.received();
    this.schedule(this.intervalMs);
  }

  /** Records a sign of life from the peer (any packet or bytes). */
  received(): void {
    this.lastReceived = this.timers.now();
    this.unansweredPings = 0;
  }

  /** Stops watching for good (the connection closed). */
  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  get active(): boolean {
    return this.running;
  }

  private schedule(ms: number): void {
    this.timer = this.timers.setTimeout(() => this.tick(), ms);
  }

  private tick(): void {
    this.timer = undefined;
    if (!this.running) return;
    if (this.peer.readingPaused?.()) {
      this.received();
      this.schedule(this.intervalMs);
      return;
    }
    const silentMs = this.timers.now() - this.lastReceived;
    if (silentMs < this.intervalMs) {
      // Something arrived since the last tick: look again when the silence could reach an interval.
      this.schedule(this.intervalMs - silentMs);
      return;
    }
    if (this.unansweredPings >= this.options.count) {
      this.stop();
      this.peer.onDead(
        new KeepaliveTimeoutError(silentMs, this.options.interval, this.options.count),
      );
      return;
    }
    this.unansweredPings++;
    this.peer.sendPing();
    this.schedule(this.intervalMs);
  }
}

export function validateKeepAliveOptions(options: KeepAliveOptions): void {
  if (!Number.isFinite(options.interval) || options.interval <= 0) {
    throw new RangeError(`keepalive interval must be a positive number of seconds`);
  }
  if (!Number.isInteger(options.count) || options.count < 0) {
    throw new RangeError(`keepalive count must be a whole number ≥ 0`);
  }
}

/**
 * Supervises an open connection: bytes arriving on `socket` are signs of life, PINGs go out as
 * KEEPALIVE MESSAGE packets, and a dead peer closes the connection with KeepaliveTimeoutError
 * (which fails every pending call). Stops by itself when the connection closes.
 */
export function superviseConnection(
  connection: Connection,
  socket: Duplex,
  options: KeepAliveOptions = DEFAULT_KEEPALIVE,
  timers: KeepAliveTimers = systemTimers,
): KeepAlive {
  const keepalive = new KeepAlive(
    {
      sendPing() {
        if (connection.closed) return;
        connection.write({
          program: KeepaliveProgram.number,
          version: KeepaliveProgram.version,
          procedure: KeepaliveProcedure.PING,
          type: MessageType.MESSAGE,
          serial: 0,
          status: MessageStatus.OK,
        });
      },
      onDead: (error) => connection.destroy(error),
      readingPaused: () => socket.isPaused(),
    },
    options,
    timers,
  );
  const onData = () => keepalive.received();
  socket.on("data", onData);
  connection.once("closed", () => {
    keepalive.stop();
    socket.off("data", onData);
  });
  if (!connection.closed) keepalive.start();
  return keepalive;
}
