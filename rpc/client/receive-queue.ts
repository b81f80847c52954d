/**
 * The chunks a receiving stream got that its reader has not taken yet. Past RECEIVE_HIGH_WATER
 * queued bytes the connection stops reading its socket, so a slow reader stalls the server through
 * TCP (the protocol has no window of its own); at RECEIVE_LOW_WATER it reads again.
 *
 * Every byte received counts against `maxBytes`, the bytes the stream call asked for: a daemon
 * that sends more is a ProtocolError, instead of a download that reads on for as long as the
 * daemon sends (the stream then aborts it).
 */
import { ProtocolError } from "../errors";
import { STREAM_CHUNK_SIZE } from "../protocol/header";
import type { Connection } from "./connection";

/** What a receiving stream yields: bytes, or (sparse streams only) a run of zeros by length. */
export type StreamChunk = { type: "data"; data: Buffer } | { type: "hole"; length: number };

/** Queued received bytes above which the connection stops reading its socket. */
export const RECEIVE_HIGH_WATER = 16 * STREAM_CHUNK_SIZE;
/** Queued received bytes at or below which reading resumes. */
export const RECEIVE_LOW_WATER = 4 * STREAM_CHUNK_SIZE;

export class ReceiveQueue {
  private readonly chunks: StreamChunk[] = [];
  /** Data bytes queued (holes take no memory). */
  private queued = 0;
  /** Data and hole bytes received in all. */
  private received = 0;
  private pausing = false;

  constructor(
    private readonly connection: Connection,
    /** The stream's procedure, for messages. */
    private readonly name: string,
    private readonly maxBytes: number | undefined,
  ) {}

  get bufferedBytes(): number {
    return this.queued;
  }

  /** Queues a chunk; throws a ProtocolError if it brings more bytes than were asked for. */
  push(chunk: StreamChunk): void {
    this.received += chunk.type === "data" ? chunk.data.length : chunk.length;
    if (this.maxBytes !== undefined && this.received > this.maxBytes) {
      throw new ProtocolError(
        `the libvirt daemon sent more than the ${this.maxBytes} bytes asked for on the ` +
          `${this.name} stream (${this.received} so far); the stream was aborted`,
      );
    }
    this.chunks.push(chunk);
    if (chunk.type === "data") this.queued += chunk.data.length;
    if (!this.pausing && this.queued > RECEIVE_HIGH_WATER) {
      this.pausing = true;
      this.connection.pauseReading();
    }
  }

  shift(): StreamChunk | undefined {
    const chunk = this.chunks.shift();
    if (chunk?.type === "data") this.queued -= chunk.data.length;
    if (this.queued <= RECEIVE_LOW_WATER) this.resume();
    return chunk;
  }

  /** Every chunk queued, leaving none. */
  takeAll(): StreamChunk[] {
    const chunks = this.chunks.splice(0);
    this.queued = 0;
    this.resume();
    return chunks;
  }

  /** Undoes our read pause, if any: the stream is over, or its reader caught up. */
  resume(): void {
    if (!this.pausing) return;
    this.pausing = false;
    this.connection.resumeReading();
  }
}
