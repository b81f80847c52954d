/**
 * XdrReader: a strict cursor over XDR (RFC 4506) data. It refuses what a lenient reader would let
 * slide: non-zero padding, lengths over the declared maximum, reads past the end and (with
 * `assertEnd`) unconsumed trailing bytes. Every refusal is an XdrError naming the offset.
 */
import { XdrError } from "../errors";
import { padding } from "./writer";

export class XdrReader {
  private position: number;

  constructor(
    private readonly buffer: Buffer,
    start = 0,
    private readonly end = buffer.length,
  ) {
    this.position = start;
  }

  get offset(): number {
    return this.position;
  }

  get remaining(): number {
    return this.end - this.position;
  }

  int(): number {
    this.need(4, "int");
    const value = this.buffer.readInt32BE(this.position);
    this.position += 4;
    return value;
  }

  uint(): number {
    this.need(4, "unsigned int");
    const value = this.buffer.readUInt32BE(this.position);
    this.position += 4;
    return value;
  }

  hyper(): bigint {
    this.need(8, "hyper");
    const value = this.buffer.readBigInt64BE(this.position);
    this.position += 8;
    return value;
  }

  uhyper(): bigint {
    this.need(8, "unsigned hyper");
    const value = this.buffer.readBigUInt64BE(this.position);
    this.position += 8;
    return value;
  }

  double(): number {
    this.need(8, "double");
    const value = this.buffer.readDoubleBE(this.position);
    this.position += 8;
    return value;
  }

  /** Fixed-length opaque data: exactly `size` bytes plus padding. Returns a copy. */
  fixedOpaque(size: number): Buffer {
    return this.bytesWithPadding(size, "fixed opaque");
  }

  /** Variable-length opaque data with a maximum length. Returns a copy. */
  opaque(max: number): Buffer {
    const length = this.length(max, "opaque");
    return this.bytesWithPadding(length, "opaque");
  }

  string(max: number): string {
    const length = this.length(max, "string");
    const start = this.position;
    this.skipWithPadding(length, "string");
    return this.buffer.toString("utf8", start, start + length);
  }

  /** Fails unless every byte has been consumed. */
  assertEnd(what = "message"): void {
    if (this.position !== this.end) {
      throw new XdrError(`${this.end - this.position} unexpected trailing bytes after the ${what}`);
    }
  }

  /** A length word, checked against `max` before anything is allocated. */
  private length(max: number, what: string): number {
    const at = this.position;
    const length = this.uint();
    if (length > max) {
      throw new XdrError(`${what} length ${length} at offset ${at} exceeds its maximum of ${max}`);
    }
    return length;
  }

  private bytesWithPadding(length: number, what: string): Buffer {
    const start = this.position;
    this.skipWithPadding(length, what);
    return Buffer.from(this.buffer.subarray(start, start + length));
  }

  private skipWithPadding(length: number, what: string): void {
    const pad = padding(length);
    this.need(length + pad, what);
    for (let i = this.position + length; i < this.position + length + pad; i++) {
      if (this.buffer[i] !== 0) throw new XdrError(`non-zero padding after ${what} at offset ${i}`);
    }
    this.position += length + pad;
  }

  private need(size: number, what: string): void {
    if (this.position + size > this.end) {
      throw new XdrError(
        `truncated data: ${what} needs ${size} bytes at offset ${this.position}, ${this.end - this.position} left`,
      );
    }
  }
}
