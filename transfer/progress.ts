/**
 * The one count of a transfer: data and hole bytes as they pass, reported to `onProgress` and
 * summed up in the result.
 */
import type { StreamChunk } from "../rpc/internal";

export interface TransferProgress {
  /** Bytes done so far, holes included. */
  bytes: number;
  /** Bytes expected in all, when known. */
  total: number | undefined;
}

export interface TransferResult {
  /** Bytes transferred, holes included: the length of the volume range or file written. */
  bytes: number;
  /** Of those, bytes that travelled as data. */
  dataBytes: number;
  /** Of those, bytes that travelled as holes. */
  holeBytes: number;
}

export class Progress {
  private dataBytes = 0;
  private holeBytes = 0;

  constructor(
    private readonly total: number | undefined,
    private readonly onProgress: ((progress: TransferProgress) => void) | undefined,
  ) {}

  add(extents: Iterable<StreamChunk>): void {
    for (const extent of extents) {
      if (extent.type === "data") this.dataBytes += extent.data.length;
      else this.holeBytes += extent.length;
      this.onProgress?.({ bytes: this.dataBytes + this.holeBytes, total: this.total });
    }
  }

  /** `extents` passed on, each counted once the consumer is done with it (asks for the next). */
  async *counting(extents: AsyncIterable<StreamChunk>): AsyncGenerator<StreamChunk> {
    for await (const extent of extents) {
      yield extent;
      this.add([extent]);
    }
  }

  result(): TransferResult {
    return {
      bytes: this.dataBytes + this.holeBytes,
      dataBytes: this.dataBytes,
      holeBytes: this.holeBytes,
    };
  }
}
