/**
 * KeepAlive: the keepalive program of one connection, both directions (libvirt's virKeepAlive,
 * src/rpc/virkeepalive.c). Every Connection has one from the start; like the one libvirt's client
 * registers (`virKeepAliveNew(-1, 0, …)` in virNetClientRegisterKeepAlive), it answers PINGs
 * before it is started to send any of its own:
 *
 *   - answering: whatever arrives from the peer is a sign of life (`received`), and each message
 *     of the keepalive program goes through `checkMessage` (virKeepAliveCheckMessage), which
 *     answers a PING with a PONG. The daemon sends PINGs once the client asked
 *     SUPPORTS_FEATURE(PROGRAM_KEEPALIVE), which the connection sequence always does.
 *   - sending (after `start`, libvirt's virKeepAliveStart): after `interval` seconds of silence a
 *     PING is sent, and another after each further silent interval; once `count` PINGs went
 *     unanswered and one more interval passes, the peer is declared dead. Any bytes count as life,
 *     not only PONGs. So a daemon that froze is detected after `interval × (count + 1)` seconds of
 *     silence, as libvirt documents for virConnectSetKeepAlive (count 0: dead after one silent
 *     interval, no PING sent).
 *
 * It only knows two small interfaces, so tests can drive it with fake timers: a peer
 * ({sendPing, onDead, readingPaused}: the Connection's hooks) and timers ({now, setTimeout,
 * clearTimeout}). Its timers are unref'd and never keep the process alive.
 */
import { KeepaliveTimeoutError } from "../errors";
import { Header, MessageStatus, MessageType } from "../protocol/header";
import { KeepaliveProcedure, KeepaliveProgram } from "../protocol/keepalive-program";

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
  private intervalMs: number;
  private lastReceived = 0;
  private unansweredPings = 0;
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(
    private readonly peer: KeepAlivePeer,
    private options: KeepAliveOptions = DEFAULT_KEEPALIVE,
    private readonly timers: KeepAliveTimers = systemTimers,
  ) {
    validateKeepAliveOptions(options);
    this.intervalMs = options.interval * 1000;
  }

  /**
   * Starts sending PINGs, every `options.interval` seconds of silence if given, else as
   * constructed; the silence is measured from now. Does nothing when already started.
   */
  start(options?: KeepAliveOptions): void {
    if (this.running) return;
    if (options) {
      validateKeepAliveOptions(options);
      this.options = options;
      this.intervalMs = options.interval * 1000;
    }
    this.running = true;
    this.received();
    this.schedule(this.intervalMs);
  }

  /** Records a sign of life from the peer (any packet or bytes). */
  received(): void {
    this.lastReceived = this.timers.now();
    this.unansweredPings = 0;
  }

  /**
   * Looks at a message of the keepalive program (virKeepAliveCheckMessage): it is a sign of life,
   * and a PING is answered. Returns the header of the answer to send, if any; PINGs are answered
   * whether or not this side sends PINGs of its own.
   */
  checkMessage(header: Header): Header | undefined {
    this.received();
    return header.procedure === KeepaliveProcedure.PING
      ? keepaliveMessage(KeepaliveProcedure.PONG)
      : undefined;
  }

  /** Stops sending PINGs for good (the connection closed). */
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
 * A keepalive message: MESSAGE packets with status OK, serial 0 and no payload
 * (src/rpc/virkeepaliveprotocol.x).
 */
export function keepaliveMessage(procedure: KeepaliveProcedure): Header {
  return {
    program: KeepaliveProgram.number,
    version: KeepaliveProgram.version,
    procedure,
    type: MessageType.MESSAGE,
    serial: 0,
    status: MessageStatus.OK,
  };
}

/**
 * What of a Connection (connection.ts) its KeepAlive uses: its hooks for writing a packet, closing
 * with a reason and whether we ourselves stopped reading. Nothing of the transport underneath.
 */
export interface KeepAliveHost {
  readonly closed: boolean;
  readonly readingPaused: boolean;
  readonly keepalive: KeepAlive;
  write(header: Header): boolean;
  destroy(reason: Error): void;
}

/** The KeepAlivePeer of a connection. */
export function connectionPeer(connection: KeepAliveHost): KeepAlivePeer {
  return {
    sendPing() {
      if (!connection.closed) connection.write(keepaliveMessage(KeepaliveProcedure.PING));
    },
    onDead: (error) => connection.destroy(error),
    readingPaused: () => connection.readingPaused,
  };
}

/**
 * Starts the PINGs of an open connection's KeepAlive: a dead peer closes the connection with
 * KeepaliveTimeoutError, which fails every pending call. It stops when the connection closes.
 */
export function superviseConnection(
  connection: KeepAliveHost,
  options: KeepAliveOptions = DEFAULT_KEEPALIVE,
): KeepAlive {
  if (!connection.closed) connection.keepalive.start(options);
  return connection.keepalive;
}
