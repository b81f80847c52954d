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
 * REPLY are kept. Sending respects the transport's backpressure. Receiving queues packets until
 * they are read; past RECEIVE_HIGH_WATER queued bytes it stops reading the connection's socket,
 * so a slow reader stalls the server through TCP (the protocol has no window of its own).
 */
import { LibvirtError, ProtocolError } from "../errors";
import { Header, MessageStatus, MessageType, STREAM_CHUNK_SIZE } from "../protocol/header";
import { Packet } from "../protocol/packet";
import { Procedure } from "../protocol/program";
import { decodeStreamHole, encodeStreamHole } from "../protocol/stream-hole";
import { decodeLibvirtError } from "../protocol/virnet-error";
import { callProcedure } from "./call";
import { Connection } from "./connection";

/** What a receiving stream yields: bytes, or (sparse streams only) a run of zeros by length. */
export type StreamChunk = { type: "data"; data: Buffer } | { type: "hole"; length: number };

/** Which way data flows: "send" for uploads, "receive" for downloads. */
export type StreamDirection = "send" | "receive";

export interface OpenStreamOptions {
  direction: StreamDirection;
  /** The call asked for a sparse stream, so holes may be sent or received. */
  sparse?: boolean;
}

/** Largest data payload per packet: libvirt's own chunk (VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX). */
export const STREAM_DATA_MAX = STREAM_CHUNK_SIZE;
/** Queued received bytes above which the connection stops reading its socket. */
export const RECEIVE_HIGH_WATER = 16 * STREAM_CHUNK_SIZE;
/** Queued received bytes at or below which reading resumes. */
export const RECEIVE_LOW_WATER = 4 * STREAM_CHUNK_SIZE;

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
  let stream: Stream | undefined;
  try {
    await callProcedure(connection, procedure, args, {
      onSerial: (serial) => {
        stream = new Stream(connection, procedure, serial, options);
      },
    });
  } catch (error) {
    stream?.dispose(error as Error);
    throw error;
  }
  return stream!;
}

export class Stream {
  readonly sparse: boolean;
  readonly direction: StreamDirection;
  private readonly queue: StreamChunk[] = [];
  private queued = 0;
  private endOfData = false;
  /** The server still holds the stream: no terminal packet (OK or ERROR) seen yet. */
  private serverOpen = true;
  /** A finish or abort has been sent; its confirmation is awaited. */
  private closeSent: "finish" | "abort" | undefined;
  private failure: Error | undefined;
  private readingPaused = false;
  private wakers: (() => void)[] = [];
  private readonly onConnectionClosed = (reason: Error) => this.dispose(reason);

  constructor(
    private readonly connection: Connection,
    private readonly procedure: Procedure<unknown, unknown>,
    readonly serial: number,
    options: OpenStreamOptions,
  ) {
    this.sparse = options.sparse ?? false;
    this.direction = options.direction;
    connection.registerStream(serial, (packet) => this.receive(packet));
    connection.once("closed", this.onConnectionClosed);
  }

  /** Received data bytes waiting to be read (holes do not count). */
  get bufferedBytes(): number {
    return this.queued;
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
      if (chunk) {
        if (chunk.type === "data") this.queued -= chunk.data.length;
        if (this.readingPaused && this.queued <= RECEIVE_LOW_WATER) this.resumeReading();
        return chunk;
      }
      if (this.failure) throw this.failure;
      if (this.endOfData) return null;
      if (!this.serverOpen) throw new ProtocolError(`stream ${this.procedure.name} ended early`);
      await this.nextChange();
    }
  }

  /**
   * Like `read`, but returns every chunk received so far (at least one), so a consumer can write
   * several packets at once; null at the end of data.
   */
  async readAvailable(): Promise<StreamChunk[] | null> {
    const first = await this.read();
    if (!first) return null;
    const chunks = [first, ...this.queue.splice(0)];
    this.queued = 0;
    if (this.readingPaused) this.resumeReading();
    return chunks;
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

  /**
   * Sends the finish (STREAM/OK) and waits for the server to confirm it: for an upload, that all
   * data reached the volume; for a download, that the server released the stream. A failure
   * reported instead rejects with a LibvirtError.
   */
  async finish(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.closeSent || !this.serverOpen) throw new Error("the stream is already closed");
    this.closeSent = "finish";
    this.dropQueue();
    this.connection.write(this.header(MessageType.STREAM, MessageStatus.OK));
    await this.settled();
    if (this.failure) throw this.failure;
  }

  /**
   * Aborts the stream (STREAM/ERROR with an empty payload) and waits for the server's answer.
   * Never rejects: once it resolves the stream is gone, whatever the server said.
   */
  async abort(): Promise<void> {
    if (this.serverOpen && !this.closeSent) this.sendAbort();
    await this.settled();
  }

  /** Forgets the stream without telling the server (its call failed, or the connection died). */
  dispose(reason: Error): void {
    this.serverOpen = false;
    this.fail(reason);
    this.release();
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
    if (chunk.type === "data") this.queued += chunk.data.length;
    if (!this.readingPaused && this.queued > RECEIVE_HIGH_WATER) {
      this.readingPaused = true;
      this.connection.pauseReading();
    }
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
    this.dropQueue();
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
    this.connection.off("closed", this.onConnectionClosed);
    if (this.readingPaused) this.resumeReading();
    this.wake();
  }

  private dropQueue(): void {
    this.queue.length = 0;
    this.queued = 0;
    if (this.readingPaused) this.resumeReading();
  }

  private resumeReading(): void {
    this.readingPaused = false;
    this.connection.resumeReading();
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
    await Promise.race([drained, this.nextChange()]);
  }

  private async settled(): Promise<void> {
    while (this.serverOpen) await this.nextChange();
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
