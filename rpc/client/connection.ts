/**
 * Connection: one byte stream to a libvirt daemon, shared by many concurrent calls (libvirt's
 * virNetClient). It owns the Duplex, hands out serial numbers, matches each REPLY to its call by
 * (program, serial), answers keepalive PINGs, and passes MESSAGE packets (events) and STREAM
 * packets to whoever registered for them. It knows nothing of procedures or their payloads.
 */
import { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import { ConnectionClosedError, ProtocolError, VirtwireRpcError } from "../errors";
import { Header, MessageStatus, MessageType } from "../protocol/header";
import { KeepaliveProcedure, KeepaliveProgram } from "../protocol/keepalive-program";
import { Packet, PacketDecoder, encodePacket, encodePacketPrefix } from "../protocol/packet";
import { Program } from "../protocol/program";
import { decodeLibvirtError } from "../protocol/virnet-error";

export interface CallOptions {
  /** Name of the procedure, for error messages (`DomainLookupByName`). */
  name?: string;
  /** Called with the call's serial before it is sent, e.g. to register a stream for it. */
  onSerial?: (serial: number) => void;
}

/** Receives the STREAM and STREAM_HOLE packets of one call. */
export type StreamPacketHandler = (packet: Packet) => void;
/** Receives MESSAGE packets of one program (events). */
export type MessageHandler = (packet: Packet) => void;

interface PendingCall {
  program: Program;
  procedure: number;
  name: string;
  resolve(payload: Buffer): void;
  reject(error: Error): void;
}

const UINT32_LIMIT = 0x1_0000_0000;
/** Payloads from this size on are written without being copied into a packet buffer. */
const ZERO_COPY_MIN = 64 * 1024;

export class Connection extends EventEmitter {
  private readonly decoder = new PacketDecoder();
  private readonly pending = new Map<number, PendingCall>();
  private readonly streams = new Map<number, StreamPacketHandler>();
  private readonly messageHandlers = new Map<number, MessageHandler>();
  /** libvirt's own client starts at 0 and counts up; any value unique on the connection works. */
  private nextSerial = 0;
  private closedBy: Error | undefined;
  private readPauses = 0;

  constructor(private readonly socket: Duplex) {
    super();
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

  /**
   * Sends a CALL and resolves with the payload of its REPLY. A REPLY with status ERROR rejects
   * with a LibvirtError; a closed connection rejects with ConnectionClosedError.
   */
  call(
    program: Program,
    procedure: number,
    payload: Buffer,
    options: CallOptions = {},
  ): Promise<Buffer> {
    if (this.closedBy) return Promise.reject(this.closedBy);
    const serial = this.allocateSerial();
    const name = options.name ?? `${program.name} procedure ${procedure}`;
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.set(serial, { program, procedure, name, resolve, reject });
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
        this.pending.delete(serial);
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
      const onDrain = () => {
        this.off("closed", onClose);
        resolve();
      };
      const onClose = (error: Error) => {
        this.socket.off("drain", onDrain);
        reject(error);
      };
      this.socket.once("drain", onDrain);
      this.once("closed", onClose);
    });
  }

  /** Routes STREAM / STREAM_HOLE packets carrying `serial` to `handler` until unregistered. */
  registerStream(serial: number, handler: StreamPacketHandler): void {
    this.streams.set(serial, handler);
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
      if (!this.pending.has(serial) && !this.streams.has(serial)) return serial;
    }
  }

  private receive(chunk: Buffer): void {
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
    switch (header.type) {
      case MessageType.REPLY:
        return this.dispatchReply(packet);
      case MessageType.MESSAGE:
        return this.dispatchMessage(packet);
      case MessageType.STREAM:
      case MessageType.STREAM_HOLE:
        // Packets of a stream nobody waits for any more (after an abort) are dropped, as libvirt does.
        this.streams.get(header.serial)?.(packet);
        return;
      default:
        throw new ProtocolError(`unexpected ${MessageType[header.type]} message from the server`);
    }
  }

  private dispatchReply(packet: Packet): void {
    const { header, payload } = packet;
    const call = this.pending.get(header.serial);
    // After a stream call's own reply, libvirt answers a stream packet it could not handle (a hole
    // it failed to write) with a REPLY carrying the stream's serial: that reply is the stream's.
    const stream = call ? undefined : this.streams.get(header.serial);
    if (stream) return stream(packet);
    if (!call || call.program.number !== header.program || call.procedure !== header.procedure) {
      throw new ProtocolError(
        `no call waiting for a reply with program ${header.program.toString(16)} procedure ${header.procedure} serial ${header.serial}`,
      );
    }
    this.pending.delete(header.serial);
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
      if (header.procedure === KeepaliveProcedure.PING) {
        this.write({
          ...header,
          procedure: KeepaliveProcedure.PONG,
          serial: 0,
          status: MessageStatus.OK,
        });
      }
      this.emit("keepalive", header.procedure);
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
    for (const call of this.pending.values()) call.reject(reason);
    this.pending.clear();
    this.streams.clear();
    this.socket.destroy();
    this.emit("closed", reason);
  }
}

function asProtocolError(error: unknown): VirtwireRpcError {
  if (error instanceof VirtwireRpcError) return error;
  return new ProtocolError(error instanceof Error ? error.message : String(error), {
    cause: error,
  });
}
