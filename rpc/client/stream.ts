/**
 * Stream: the data channel that follows a stream call such as STORAGE_VOL_UPLOAD (libvirt's
 * virNetClientStream). Every packet carries the call's program, procedure and serial:
 *
 *   client → server   STREAM/CONTINUE data · STREAM_HOLE/CONTINUE hole · STREAM/OK finish ·
 *                     STREAM/ERROR (empty) abort
 *   server → client   STREAM/CONTINUE data (empty = end of data) · STREAM_HOLE/CONTINUE hole ·
 *                     STREAM/OK finish or abort confirmed · STREAM/ERROR + error = stream failed
 *
 * The stream is registered for the serial before the CALL goes out, so packets that beat the
 * REPLY are kept. Sending respects the transport's backpressure; receiving queues packets until
 * they are read, with backpressure and a byte limit of its own (receive-queue.ts).
 *
 * Waiting on the server has deadlines (deadlines.ts): `streamIdleTimeoutMs` for data, room to send
 * or the answer to an abort, `longCallTimeoutMs` for the confirmation of a finish. A deadline
 * missed fails the stream with StreamTimeoutError and aborts it.
 */
import { LibvirtError, ProtocolError, StreamTimeoutError } from "../errors";
import { Header, MessageStatus, MessageType, STREAM_CHUNK_SIZE } from "../protocol/header";
import { Packet } from "../protocol/packet";
import { Procedure } from "../protocol/program";
import { decodeStreamHole, encodeStreamHole } from "../protocol/stream-hole";
import { decodeLibvirtError } from "../protocol/virnet-error";
import { Connection } from "./connection";
import { startDeadline, streamDeadline } from "./deadlines";
import { ReceiveQueue, StreamChunk } from "./receive-queue";
import { StreamSink, StreamSource, WholeStreamOptions, receiveAll, sendAll } from "./stream-all";

export { RECEIVE_HIGH_WATER, RECEIVE_LOW_WATER } from "./receive-queue";
export type { StreamChunk } from "./receive-queue";
export type { StreamSink, StreamSource, WholeStreamOptions } from "./stream-all";

/** Which way data flows: "send" for uploads, "receive" for downloads. */
export type StreamDirection = "send" | "receive";

export interface OpenStreamOptions {
  direction: StreamDirection;
  /** The call asked for a sparse stream, so holes may be sent or received. */
  sparse?: boolean;
  /** Receiving: the bytes asked for (data and holes); more fail and abort the stream. */
  maxBytes?: number;
  /** Overrides the connection's `streamIdleTimeoutMs` for this stream; 0: wait forever. */
  idleTimeoutMs?: number;
}

/**
 * Largest data payload per packet: libvirt's own chunk (VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX). The
 * daemon takes larger ones, but 1 MiB packets, though 1.27× as fast for a 512 MiB upload, made
 * bench/run.sh's 1 GiB and 4 GiB uploads a third as fast (377 against 1093 MiB/s on libvirt 9.0).
 */
export const STREAM_DATA_MAX = STREAM_CHUNK_SIZE;

export class Stream {
  readonly sparse: boolean;
  readonly direction: StreamDirection;
  private readonly queue: ReceiveQueue;
  private endOfData = false;
  /** The server still holds the stream: no terminal packet (OK or ERROR) seen yet. */
  private serverOpen = true;
  /** A finish or abort has been sent; its confirmation is awaited. */
  private closeSent: "finish" | "abort" | undefined;
  private failure: Error | undefined;
  /** The stream call was given up on: its late OK is answered with an abort. */
  private orphaned = false;
  private wakers: (() => void)[] = [];

  constructor(
    private readonly connection: Connection,
    private readonly procedure: Procedure<unknown, unknown>,
    readonly serial: number,
    private readonly options: OpenStreamOptions,
  ) {
    this.sparse = options.sparse ?? false;
    this.direction = options.direction;
    this.queue = new ReceiveQueue(connection, procedure.name, options.maxBytes);
    connection.registerStream(serial, {
      receive: (packet) => this.receive(packet),
      connectionClosed: (reason) => this.dispose(reason),
    });
  }

  /** Received data bytes waiting to be read (holes do not count). */
  get bufferedBytes(): number {
    return this.queue.bufferedBytes;
  }

  /** True once the stream is over: finished, aborted or failed. */
  get closed(): boolean {
    return !this.serverOpen;
  }

  /** Why the stream failed, if it did. */
  get error(): Error | undefined {
    return this.failure;
  }

  /**
   * Sends bytes as STREAM/CONTINUE packets of at most STREAM_DATA_MAX bytes each, waiting for the
   * transport to drain whenever it is full. Rejects as soon as the stream has failed (e.g. the
   * server reported a write error), so an upload stops at once.
   */
  async send(data: Uint8Array): Promise<void> {
    this.assertSendable();
    for (let offset = 0; offset < data.length; offset += STREAM_DATA_MAX) {
      const end = Math.min(offset + STREAM_DATA_MAX, data.length);
      await this.sendPacket(MessageType.STREAM, data.subarray(offset, end));
    }
  }

  /** Sends a hole of `length` zero bytes (sparse streams only). */
  async sendHole(length: number): Promise<void> {
    this.assertSendable();
    if (!this.sparse) throw new Error("holes can only be sent on a sparse stream");
    await this.sendPacket(MessageType.STREAM_HOLE, encodeStreamHole(length));
  }

  /**
   * The next received chunk, or null at the end of data. Rejects with the stream's error if the
   * server reported one, or the connection's if it died.
   */
  async read(): Promise<StreamChunk | null> {
    for (;;) {
      const chunk = this.queue.shift();
      if (chunk) return chunk;
      if (this.failure) throw this.failure;
      if (this.endOfData) return null;
      if (!this.serverOpen) throw new ProtocolError(`stream ${this.procedure.name} ended early`);
      await this.waitForServer("data");
    }
  }

  /**
   * Like `read`, but returns every chunk received so far (at least one), so a consumer can write
   * several packets at once; null at the end of data.
   */
  async readAvailable(): Promise<StreamChunk[] | null> {
    const first = await this.read();
    if (!first) return null;
    return [first, ...this.queue.takeAll()];
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<StreamChunk> {
    let complete = false;
    try {
      for (let chunk = await this.read(); chunk; chunk = await this.read()) yield chunk;
      complete = true;
    } finally {
      if (!complete) await this.abort();
    }
  }

  /** virStreamSparseSendAll: every extent of `source`, then the finish (stream-all.ts). */
  sendAll(source: StreamSource, options?: WholeStreamOptions): Promise<void> {
    return sendAll(this, source, options);
  }

  /** virStreamSparseRecvAll: all that arrives into `sink`, then the finish (stream-all.ts). */
  receiveAll(sink: StreamSink, options?: WholeStreamOptions): Promise<void> {
    return receiveAll(this, sink, options);
  }

  /**
   * Sends the finish (STREAM/OK) and waits for the server to confirm it: for an upload, that all
   * data reached the volume; for a download, that the server released the stream. A failure
   * reported instead rejects with a LibvirtError.
   */
  async finish(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.closeSent || !this.serverOpen) throw new Error("the stream is already closed");
    this.closeSent = "finish";
    this.queue.takeAll(); // dropped
    this.connection.write(this.header(MessageType.STREAM, MessageStatus.OK));
    await this.settled("the finish to be confirmed");
    if (this.failure) throw this.failure;
  }

  /**
   * Aborts the stream (STREAM/ERROR with an empty payload) and waits for the server's answer.
   * Never rejects: once it resolves the stream is gone, whatever the server said.
   */
  async abort(): Promise<void> {
    if (this.serverOpen && !this.closeSent) this.sendAbort();
    await this.settled("the abort");
  }

  /** Forgets the stream without telling the server (its call failed, or the connection died). */
  dispose(reason: Error): void {
    this.serverOpen = false;
    this.fail(reason);
    this.release();
  }

  /**
   * The stream call was given up on before its reply: the stream fails but stays registered, to
   * answer a late OK with an abort rather than leave the daemon's stream open.
   */
  orphan(reason: Error): void {
    this.orphaned = true;
    this.fail(reason);
  }

  private receive(packet: Packet): void {
    const { header, payload } = packet;
    try {
      if (
        header.program !== this.procedure.program.number ||
        header.procedure !== this.procedure.number
      ) {
        throw new ProtocolError(
          `stream packet for procedure ${header.procedure} arrived on the ${this.procedure.name} stream`,
        );
      }
      if (header.type === MessageType.STREAM) this.receiveStream(header.status, payload);
      else if (header.type === MessageType.STREAM_HOLE) this.receiveHole(header.status, payload);
      else if (header.type === MessageType.REPLY && header.status === MessageStatus.ERROR) {
        this.serverClosed(this.decodeError(payload));
      } else if (header.type === MessageType.REPLY && this.orphaned && !this.closeSent) {
        this.sendAbort(); // the late OK of the call given up on
      } else {
        throw new ProtocolError(
          `unexpected ${MessageType[header.type]}/${MessageStatus[header.status]} on the ${this.procedure.name} stream`,
        );
      }
    } catch (error) {
      // The server broke the stream protocol: give up the stream, not the connection.
      this.failLocally(error as Error);
    }
  }

  private receiveStream(status: MessageStatus, payload: Buffer): void {
    switch (status) {
      case MessageStatus.CONTINUE:
        this.assertReceiving();
        if (payload.length === 0) this.endOfData = true;
        else this.enqueue({ type: "data", data: payload });
        return this.wake();
      case MessageStatus.OK:
        if (!this.closeSent) {
          throw new ProtocolError(
            `unexpected finish from the server on the ${this.procedure.name} stream`,
          );
        }
        return this.serverClosed();
      case MessageStatus.ERROR:
        return this.serverClosed(this.decodeError(payload));
    }
  }

  private receiveHole(status: MessageStatus, payload: Buffer): void {
    if (status !== MessageStatus.CONTINUE) {
      throw new ProtocolError(`stream hole with status ${MessageStatus[status]}`);
    }
    if (!this.sparse) {
      throw new ProtocolError(
        `unexpected stream hole on the non-sparse ${this.procedure.name} stream`,
      );
    }
    const length = decodeStreamHole(payload);
    this.assertReceiving();
    this.enqueue({ type: "hole", length });
    this.wake();
  }

  /** Data or holes from the server, even an empty end-of-data packet, break an upload stream. */
  private assertReceiving(): void {
    if (this.direction !== "receive") {
      throw new ProtocolError(`the server sent data on the ${this.procedure.name} upload stream`);
    }
  }

  private enqueue(chunk: StreamChunk): void {
    if (this.failure || this.closeSent || this.endOfData) return; // after an abort: dropped
    this.queue.push(chunk);
  }

  /** The server ended the stream: confirmation of our finish/abort, or (with `error`) a failure. */
  private serverClosed(error?: Error): void {
    this.serverOpen = false;
    // The answer to an abort is not an error for the caller: the stream is gone either way.
    if (error && this.closeSent !== "abort") this.fail(error);
    this.release();
  }

  /** A failure found on this side: report it, and abort the server's stream if it still runs. */
  private failLocally(error: Error): void {
    this.fail(error);
    if (this.serverOpen && !this.closeSent) this.sendAbort();
    else if (!this.serverOpen) this.release();
  }

  private sendAbort(): void {
    this.closeSent = "abort";
    this.queue.takeAll(); // dropped
    try {
      this.connection.write(this.header(MessageType.STREAM, MessageStatus.ERROR));
    } catch (error) {
      this.dispose(error as Error);
    }
    this.wake();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wake();
  }

  /** Stops listening: unregisters the serial and undoes a read pause. */
  private release(): void {
    this.connection.unregisterStream(this.serial);
    this.queue.resume();
    this.wake();
  }

  private assertSendable(): void {
    if (this.failure) throw this.failure;
    if (this.direction !== "send")
      throw new Error(`the ${this.procedure.name} stream only receives`);
    if (this.closeSent || !this.serverOpen) throw new Error("the stream is already closed");
  }

  /** Writes one CONTINUE packet; if the transport is full, waits for it to drain. */
  private async sendPacket(type: MessageType, payload: Uint8Array): Promise<void> {
    if (!this.connection.write(this.header(type, MessageStatus.CONTINUE), payload)) {
      await this.drained();
    }
    this.assertSendable();
  }

  /** Waits for the transport to drain, or for the stream to fail meanwhile. */
  private async drained(): Promise<void> {
    const drained = this.connection.drained();
    drained.catch(() => undefined); // a failure is reported through the stream instead
    await this.waitForServer("room to send", drained);
  }

  /** Waits for the server's answer to our finish or abort. */
  private async settled(waitingFor: "the finish to be confirmed" | "the abort"): Promise<void> {
    while (this.serverOpen) await this.waitForServer(waitingFor);
  }

  /**
   * Waits for the next change (a packet, a failure) or for `until`, at most one deadline long.
   * When it is up, the stream fails and is aborted; one whose finish or abort the server ignores
   * is forgotten.
   */
  private async waitForServer(
    waitingFor: StreamTimeoutError["waitingFor"],
    until?: Promise<void>,
  ): Promise<void> {
    const { deadlines } = this.connection;
    const { timeoutMs, option } = streamDeadline(deadlines, waitingFor, this.options.idleTimeoutMs);
    const expire = () => {
      const error = new StreamTimeoutError(this.procedure.name, timeoutMs, waitingFor, option);
      if (this.closeSent) this.dispose(error);
      else this.failLocally(error);
    };
    const stop = startDeadline(timeoutMs, expire, () => this.connection.readingPaused);
    try {
      await (until ? Promise.race([until, this.nextChange()]) : this.nextChange());
    } finally {
      stop(); // whichever came first: the deadline is over
    }
  }

  private nextChange(): Promise<void> {
    return new Promise((wake) => this.wakers.push(wake));
  }

  private wake(): void {
    const wakers = this.wakers;
    this.wakers = [];
    for (const wake of wakers) wake();
  }

  private header(type: MessageType, status: MessageStatus): Header {
    const { program } = this.procedure;
    return {
      program: program.number,
      version: program.version,
      procedure: this.procedure.number,
      type,
      serial: this.serial,
      status,
    };
  }

  private decodeError(payload: Buffer): LibvirtError | ProtocolError {
    const { name } = this.procedure;
    return decodeLibvirtError(payload, name, `stream error from ${name}`);
  }
}
