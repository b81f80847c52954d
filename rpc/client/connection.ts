/**
 * Connection: one byte stream to a libvirt daemon, shared by many concurrent calls (libvirt's
 * virNetClient). It owns the Duplex, hands out serial numbers, matches each REPLY to its call by
 * (program, serial), hands keepalive messages to its KeepAlive (keepalive.ts), and passes MESSAGE
 * packets (events) and STREAM packets to whoever registered for them. It knows nothing of
 * procedures or their payloads. Every call has a deadline; a call that misses it is given up on
 * (pending-calls.ts). Nothing outside reaches the Duplex: others use its hooks (`write`,
 * `drained`, `pauseReading`, `readingPaused`, `onMessage`, `registerStream`, `destroy`).
 */
import { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import {
  CallTimeoutError,
  ConnectionClosedError,
  ProtocolError,
  VirtwireRpcError,
} from "../errors";
import { Header, MessageStatus, MessageType } from "../protocol/header";
import { KeepaliveProgram } from "../protocol/keepalive-program";
import { Packet, PacketDecoder, encodePacket, encodePacketPrefix } from "../protocol/packet";
import { Program, checkProgramVersion } from "../protocol/program";
import { decodeLibvirtError } from "../protocol/virnet-error";
import { DEFAULT_DEADLINES, Deadlines, validateDeadlines } from "./deadlines";
import { KeepAlive, connectionPeer } from "./keepalive";
import { PendingCalls } from "./pending-calls";

export interface CallOptions {
  /** Name of the procedure, for error messages (`DomainLookupByName`). */
  name?: string;
  /** Called with the call's serial before it is sent, e.g. to register a stream for it. */
  onSerial?: (serial: number) => void;
  /** Milliseconds to wait for the reply; default the connection's `callTimeoutMs`; 0: forever. */
  timeoutMs?: number;
  /** The option that set `timeoutMs`, named in the CallTimeoutError (default `callTimeoutMs`). */
  timeoutOption?: string;
  /** Gives up on the call: it rejects with the signal's reason, and a late reply is dropped. */
  signal?: AbortSignal;
}

/** One open stream, as the connection routes to it. */
export interface StreamEndpoint {
  /** A STREAM or STREAM_HOLE packet of the stream, or a REPLY carrying its serial. */
  receive(packet: Packet): void;
  /** The connection closed or failed: the stream is over. Must not throw (others wait to be told). */
  connectionClosed(reason: Error): void;
}
/** Receives MESSAGE packets of one program (events). */
export type MessageHandler = (packet: Packet) => void;

const UINT32_LIMIT = 0x1_0000_0000;
/** Payloads from this size on are written without being copied into a packet buffer. */
const ZERO_COPY_MIN = 64 * 1024;

export class Connection extends EventEmitter {
  private readonly decoder = new PacketDecoder();
  private readonly pending = new PendingCalls(() => this.readingPaused);
  private readonly streams = new Map<number, StreamEndpoint>();
  private readonly messageHandlers = new Map<number, MessageHandler>();
  /** The programs spoken here, by number, whose version every packet must carry. */
  private readonly programs = new Map([[KeepaliveProgram.number, KeepaliveProgram]]);
  /** libvirt's own client starts at 0 and counts up; any value unique on the connection works. */
  private nextSerial = 0;
  private closedBy: Error | undefined;
  /**
   * Writers waiting for the transport to drain: one "drain" listener wakes them all, however many
   * uploads share the connection.
   */
  private readonly drainWaiters: { resolve: () => void; reject: (reason: Error) => void }[] = [];
  private readPauses = 0;
  /**
   * Answers the daemon's PINGs from the start; sends PINGs of its own once started
   * (superviseConnection, by Libvirt.connect when the server supports keepalive).
   */
  readonly keepalive: KeepAlive = new KeepAlive(connectionPeer(this));

  constructor(
    private readonly socket: Duplex,
    /** How long calls and streams wait for the daemon (deadlines.ts). */
    readonly deadlines: Readonly<Deadlines> = DEFAULT_DEADLINES,
  ) {
    super();
    validateDeadlines(deadlines);
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("end", () => this.receiveEnd());
    socket.on("error", (error) =>
      this.fail(new ConnectionClosedError(`connection error: ${error.message}`, { cause: error })),
    );
    socket.on("close", () => this.fail(new ConnectionClosedError("connection closed by the peer")));
  }

  /** True once the connection has closed or failed; every later call fails at once. */
  get closed(): boolean {
    return this.closedBy !== undefined;
  }

  /** Why the connection closed, if it has. */
  get closeReason(): Error | undefined {
    return this.closedBy;
  }

  /** Number of calls sent and not yet answered. */
  get pendingCalls(): number {
    return this.pending.size;
  }

  /** True while the transport is not being read (a stream consumer's backpressure). */
  get readingPaused(): boolean {
    return this.readPauses > 0;
  }

  /** True when the call with `serial` was given up on and its reply has not come yet. */
  awaitsLateReply(serial: number): boolean {
    return this.pending.abandonedAwaitingReply(serial);
  }

  /**
   * Sends a CALL and resolves with the payload of its REPLY. A REPLY with status ERROR rejects
   * with a LibvirtError; a closed connection rejects with ConnectionClosedError; no reply within
   * the deadline rejects with CallTimeoutError.
   */
  call(
    program: Program,
    procedure: number,
    payload: Buffer,
    options: CallOptions = {},
  ): Promise<Buffer> {
    if (this.closedBy) return Promise.reject(this.closedBy);
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    const serial = this.allocateSerial();
    const name = options.name ?? `${program.name} procedure ${procedure}`;
    if (!this.programs.has(program.number)) this.programs.set(program.number, program);
    const option = options.timeoutOption ?? "callTimeoutMs";
    const watch = {
      timeoutMs: options.timeoutMs ?? this.deadlines.callTimeoutMs,
      timeoutError: (ms: number) => new CallTimeoutError(name, ms, option),
      signal: options.signal,
    };
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.add(serial, { program, procedure, name, resolve, reject }, watch);
      try {
        options.onSerial?.(serial);
        this.write(
          {
            program: program.number,
            version: program.version,
            procedure,
            type: MessageType.CALL,
            serial,
            status: MessageStatus.OK,
          },
          payload,
        );
      } catch (error) {
        this.pending.take(serial);
        reject(error);
      }
    });
  }

  /**
   * Writes one packet. Returns false when the transport's buffer is full: a bulk writer (stream
   * upload) should then wait for `drained()` before writing more. Either way the caller may reuse
   * `payload` once this returned true, or once `drained()` resolved.
   */
  write(header: Header, payload?: Uint8Array): boolean {
    if (this.closedBy) throw this.closedBy;
    const socket = this.socket;
    // A large payload that fills the transport's buffer anyway is not copied into a packet: its
    // 28-byte prefix and the payload itself go out together (one writev on a socket). The
    // transport holds on to the payload until it drains, which is when the caller may reuse it,
    // since this write returns false. Copying stream data cost more CPU than the rest of an upload.
    if (
      payload &&
      payload.length >= ZERO_COPY_MIN &&
      socket.writableLength + payload.length >= socket.writableHighWaterMark
    ) {
      socket.cork();
      socket.write(encodePacketPrefix(header, payload.length));
      const ok = socket.write(payload);
      socket.uncork();
      return ok;
    }
    return socket.write(encodePacket(header, payload));
  }

  /** Resolves when the transport can take more data (or at once if it can now). */
  drained(): Promise<void> {
    if (this.closedBy) return Promise.reject(this.closedBy);
    if (!this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.drainWaiters.push({ resolve, reject });
      if (this.drainWaiters.length === 1) this.socket.once("drain", this.onDrain);
    });
  }

  private readonly onDrain = () => {
    for (const waiter of this.drainWaiters.splice(0)) waiter.resolve();
  };

  /**
   * Routes STREAM / STREAM_HOLE packets carrying `serial` to `stream` until unregistered, and tells
   * it when the connection closes (the connection's "closed" event is not for streams: however
   * many are open at once, they add no listeners).
   */
  registerStream(serial: number, stream: StreamEndpoint): void {
    this.streams.set(serial, stream);
  }

  unregisterStream(serial: number): void {
    this.streams.delete(serial);
  }

  /**
   * Stops reading the transport until `resumeReading()` has been called as many times: a stream
   * download's backpressure (the socket buffer fills and the kernel stalls the server). Replies,
   * events and keepalive PINGs of the whole connection wait meanwhile.
   */
  pauseReading(): void {
    if (this.readPauses++ === 0) this.socket.pause();
  }

  resumeReading(): void {
    if (this.readPauses > 0 && --this.readPauses === 0) this.socket.resume();
  }

  /** Routes MESSAGE packets of `program` (events) to `handler`. */
  onMessage(program: Program, handler: MessageHandler): void {
    this.programs.set(program.number, program);
    this.messageHandlers.set(program.number, handler);
  }

  /** Fails every pending call and closes the transport. Safe to call more than once. */
  destroy(reason: Error = new ConnectionClosedError("connection closed by the client")): void {
    this.fail(reason);
  }

  private allocateSerial(): number {
    // Skip serials still in use after a wrap-around of the 32-bit counter.
    for (;;) {
      const serial = this.nextSerial;
      this.nextSerial = (this.nextSerial + 1) % UINT32_LIMIT;
      if (!this.pending.inUse(serial) && !this.streams.has(serial)) return serial;
    }
  }

  private receive(chunk: Buffer): void {
    this.keepalive.received();
    let packets: Packet[];
    try {
      packets = this.decoder.push(chunk);
    } catch (error) {
      this.fail(asProtocolError(error));
      return;
    }
    for (const packet of packets) {
      try {
        this.dispatch(packet);
      } catch (error) {
        this.fail(asProtocolError(error));
        return;
      }
    }
  }

  private dispatch(packet: Packet): void {
    const { header } = packet;
    // libvirt's client matches replies, events and stream packets on program and version.
    const program = this.programs.get(header.program);
    if (program) checkProgramVersion(header, program);
    switch (header.type) {
      case MessageType.REPLY:
        return this.dispatchReply(packet);
      case MessageType.MESSAGE:
        return this.dispatchMessage(packet);
      case MessageType.STREAM:
      case MessageType.STREAM_HOLE:
        // Packets of a stream nobody waits for any more (after an abort) are dropped, as libvirt does.
        this.streams.get(header.serial)?.receive(packet);
        return;
      default:
        throw new ProtocolError(`unexpected ${MessageType[header.type]} message from the server`);
    }
  }

  private dispatchReply(packet: Packet): void {
    const { header, payload } = packet;
    const call = this.pending.get(header.serial);
    // The late reply of a call given up on is dropped; if the call opened a stream, the stream
    // gets it, to abort what the daemon just opened.
    if (!call && this.pending.takeLateReply(header))
      return this.streams.get(header.serial)?.receive(packet);
    // After a stream call's own reply, libvirt answers a stream packet it could not handle (a hole
    // it failed to write) with a REPLY carrying the stream's serial: that reply is the stream's.
    const stream = call ? undefined : this.streams.get(header.serial);
    if (stream) return stream.receive(packet);
    if (!call || call.program.number !== header.program || call.procedure !== header.procedure) {
      throw new ProtocolError(
        `no call waiting for a reply with program ${header.program.toString(16)} procedure ${header.procedure} serial ${header.serial}`,
      );
    }
    this.pending.take(header.serial);
    if (header.status === MessageStatus.OK) {
      call.resolve(payload);
    } else if (header.status === MessageStatus.ERROR) {
      call.reject(decodeLibvirtError(payload, call.name, `error reply to ${call.name}`));
    } else {
      throw new ProtocolError(
        `reply to ${call.name} has unexpected status ${MessageStatus[header.status]}`,
      );
    }
  }

  private dispatchMessage(packet: Packet): void {
    const { header } = packet;
    if (header.program === KeepaliveProgram.number) {
      const answer = this.keepalive.checkMessage(header);
      if (answer) this.write(answer);
      return;
    }
    const handler = this.messageHandlers.get(header.program);
    if (handler) handler(packet);
  }

  private receiveEnd(): void {
    try {
      this.decoder.end();
    } catch (error) {
      this.fail(asProtocolError(error));
      return;
    }
    this.fail(new ConnectionClosedError("connection closed by the server"));
  }

  private fail(reason: Error): void {
    if (this.closedBy) return;
    this.closedBy = reason;
    this.keepalive.stop();
    this.pending.failAll(reason);
    const streams = [...this.streams.values()];
    this.streams.clear();
    this.socket.off("drain", this.onDrain);
    for (const waiter of this.drainWaiters.splice(0)) waiter.reject(reason);
    this.socket.destroy();
    for (const stream of streams) stream.connectionClosed(reason);
    this.emit("closed", reason);
  }
}

function asProtocolError(error: unknown): VirtwireRpcError {
  if (error instanceof VirtwireRpcError) return error;
  return new ProtocolError(error instanceof Error ? error.message : String(error), {
    cause: error,
  });
}
