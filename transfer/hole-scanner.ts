/**
 * Finding holes in data on its way to a sparse upload. Node has no lseek(SEEK_DATA/SEEK_HOLE),
 * which is how virsh finds a file's holes, so holes are found by content instead: the input is cut
 * into granules (HOLE_GRANULE bytes, counted from the start of the volume: an input that starts
 * part-way into one makes its first granule shorter) and a granule that is all zeros becomes part
 * of a hole. That works for any source, files and pipes alike, and also turns zeros a file really
 * stores into holes (like `cp --sparse=always`). The price is reading the holes, which the kernel
 * serves from no disk at memory speed, and the zero check (isAllZero).
 *
 * Granules of 64 KiB (sixteen 4 KiB file-system blocks) keep small zero runs inside data packets:
 * finer granules would split data into many small packets and holes, each costing the daemon a
 * seek and a truncate, for little space saved.
 */

import type { StreamChunk } from "../rpc/internal";

/** Size of the unit classified as data or hole. */
export const HOLE_GRANULE = 64 * 1024;

/**
 * Sans-I/O: `push` input chunks of any size, get extents back in input order; `end` flushes the
 * rest. Adjacent hole granules merge into one hole, across pushes; data granules that sit side by
 * side in one chunk come back as one extent (a view of the chunk, not a copy).
 */
export class HoleScanner {
  /** Bytes of a granule that straddles chunks, copied until it is complete. */
  private readonly partial: Buffer;
  private partialLength = 0;
  /** Size of the granule being gathered in `partial`: a whole one, or the rest of the first. */
  private partialSize: number;
  /** Zeros seen and not yet returned: they become one hole when data (or the end) follows. */
  private pendingHole = 0;

  /**
   * `start`: where in the volume the input begins. Granules are counted from the volume's start,
   * so an input read from a file in blocks of whole granules, and written at the same offsets,
   * is never split mid-granule (a split granule is copied, and if it holds data goes out alone).
   */
  constructor(
    readonly granule: number = HOLE_GRANULE,
    start = 0,
  ) {
    if (!Number.isSafeInteger(granule) || granule <= 0) {
      throw new RangeError(`hole granule must be a positive whole number, not ${granule}`);
    }
    if (!Number.isSafeInteger(start) || start < 0) {
      throw new RangeError(`hole scan start must be a non-negative whole number, not ${start}`);
    }
    this.partial = Buffer.allocUnsafe(granule);
    this.partialSize = granule - (start % granule);
  }

  push(chunk: Buffer): StreamChunk[] {
    const extents: StreamChunk[] = [];
    let position = 0;
    if (this.partialLength > 0 || this.partialSize < this.granule) {
      const used = Math.min(this.partialSize - this.partialLength, chunk.length);
      chunk.copy(this.partial, this.partialLength, 0, used);
      this.partialLength += used;
      position = used;
      if (this.partialLength < this.partialSize) return extents;
      this.classifyPartial(this.partialSize, extents);
      this.partialLength = 0;
      this.partialSize = this.granule;
    }
    // Whole granules straight from the chunk; a run of data granules stays one view. A chunk of
    // a file that is mostly holes is usually all zeros: one check of all its whole granules then
    // costs one pass, and a chunk with data fails it early (at the first nonzero byte).
    const wholeEnd = position + Math.floor((chunk.length - position) / this.granule) * this.granule;
    if (wholeEnd > position && isAllZero(chunk, position, wholeEnd - position)) {
      this.pendingHole += wholeEnd - position;
      position = wholeEnd;
    }
    let dataStart = -1;
    for (; position + this.granule <= chunk.length; position += this.granule) {
      const isZero = isAllZero(chunk, position, this.granule);
      if (isZero) {
        if (dataStart >= 0) this.emitData(chunk.subarray(dataStart, position), extents);
        dataStart = -1;
        this.pendingHole += this.granule;
      } else if (dataStart < 0) {
        dataStart = position;
      }
    }
    if (dataStart >= 0) this.emitData(chunk.subarray(dataStart, position), extents);
    if (position < chunk.length) {
      chunk.copy(this.partial, 0, position);
      this.partialLength = chunk.length - position;
    }
    return extents;
  }

  /** The last, possibly short, granule and any hole still pending. */
  end(): StreamChunk[] {
    const extents: StreamChunk[] = [];
    if (this.partialLength > 0) {
      this.classifyPartial(this.partialLength, extents);
      this.partialLength = 0;
    }
    if (this.pendingHole > 0) extents.push({ type: "hole", length: this.pendingHole });
    this.pendingHole = 0;
    return extents;
  }

  /** The first `length` bytes of the reused granule buffer: data leaves as a copy, a hole needs none. */
  private classifyPartial(length: number, extents: StreamChunk[]): void {
    if (isAllZero(this.partial, 0, length)) this.pendingHole += length;
    else this.emitData(Buffer.from(this.partial.subarray(0, length)), extents);
  }

  private emitData(data: Buffer, extents: StreamChunk[]): void {
    if (this.pendingHole > 0) extents.push({ type: "hole", length: this.pendingHole });
    this.pendingHole = 0;
    extents.push({ type: "data", data });
  }
}

/** Bytes of the span checked against zeros directly; the rest is checked against itself. */
export const ZERO_PREFIX = 64;
const ZEROS = Buffer.alloc(ZERO_PREFIX);

/**
 * Whether buffer[start, start + length) is all zeros. The first ZERO_PREFIX bytes are compared
 * with zeros, then the span with itself ZERO_PREFIX bytes further on: if buffer[i] equals
 * buffer[i - ZERO_PREFIX] for every i past the prefix and the prefix is zero, every byte is zero
 * (by induction), and any nonzero byte makes some pair differ. Both are one memcmp (Buffer.compare)
 * that stops at the first difference; comparing a span with itself reads one stream of memory
 * where comparing it with a zero buffer reads two, which measured 0.013–0.016 s per GiB of zeros
 * against 0.029 (a JavaScript loop over 32- or 64-bit words took 0.2–0.5 s).
 */
export function isAllZero(buffer: Buffer, start: number, length: number): boolean {
  const prefix = Math.min(length, ZERO_PREFIX);
  if (buffer.compare(ZEROS, 0, prefix, start, start + prefix) !== 0) return false;
  if (length <= ZERO_PREFIX) return true;
  const end = start + length;
  return buffer.compare(buffer, start + ZERO_PREFIX, end, start, end - ZERO_PREFIX) === 0;
}
