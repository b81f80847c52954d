/**
 * XdrWriter: appends XDR (RFC 4506) items to a growing buffer. Every item is a multiple of four
 * bytes; variable-length data is followed by zero padding. Lengths above the declared maximum are
 * refused here, so nothing oversized ever reaches the wire.
 */
import { XdrError } from "../errors";

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const UINT32_MAX = 0xffffffff;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/** Bytes of zero padding needed after `length` bytes to reach a four-byte boundary. */
export function padding(length: number): number {
  return (4 - (length & 3)) & 3;
}

export class XdrWriter {
  private buffer: Buffer;
  private position = 0;

  constructor(initialSize = 256) {
    this.buffer = Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.position;
  }

  int(value: number): this {
    if (!Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
      throw new XdrError(`int out of range: ${value}`);
    }
    this.reserve(4);
    this.buffer.writeInt32BE(value, this.position);
    this.position += 4;
    return this;
  }

  uint(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > UINT32_MAX) {
      throw new XdrError(`unsigned int out of range: ${value}`);
    }
    this.reserve(4);
    this.buffer.writeUInt32BE(value, this.position);
    this.position += 4;
    return this;
  }

  hyper(value: bigint): this {
    if (typeof value !== "bigint" || value < INT64_MIN || value > INT64_MAX) {
      throw new XdrError(`hyper out of range: ${String(value)}`);
    }
    this.reserve(8);
    this.buffer.writeBigInt64BE(value, this.position);
    this.position += 8;
    return this;
  }

  uhyper(value: bigint): this {
    if (typeof value !== "bigint" || value < 0n || value > UINT64_MAX) {
      throw new XdrError(`unsigned hyper out of range: ${String(value)}`);
    }
    this.reserve(8);
    this.buffer.writeBigUInt64BE(value, this.position);
    this.position += 8;
    return this;
  }

  double(value: number): this {
    this.reserve(8);
    this.buffer.writeDoubleBE(value, this.position);
    this.position += 8;
    return this;
  }

  /** Fixed-length opaque data (`opaque x[n]`): exactly n bytes, then padding; no length word. */
  fixedOpaque(bytes: Uint8Array, size: number): this {
    if (bytes.length !== size) {
      throw new XdrError(`fixed opaque needs exactly ${size} bytes, got ${bytes.length}`);
    }
    return this.bytesWithPadding(bytes);
  }

  /** Variable-length opaque data (`opaque x<max>`): length word, bytes, padding. */
  opaque(bytes: Uint8Array, max: number): this {
    if (bytes.length > max) {
      throw new XdrError(`opaque of ${bytes.length} bytes exceeds its maximum of ${max}`);
    }
    this.uint(bytes.length);
    return this.bytesWithPadding(bytes);
  }

  /** `string x<max>`: UTF-8 bytes without a terminating NUL; `max` counts bytes. */
  string(value: string, max: number): this {
    if (typeof value !== "string") throw new XdrError(`expected a string, got ${typeof value}`);
    const bytes = Buffer.from(value, "utf8");
    if (bytes.length > max) {
      throw new XdrError(`string of ${bytes.length} bytes exceeds its maximum of ${max}`);
    }
    this.uint(bytes.length);
    return this.bytesWithPadding(bytes);
  }

  /** The bytes written so far (a view; valid until the next write). */
  finish(): Buffer {
    return this.buffer.subarray(0, this.position);
  }

  private bytesWithPadding(bytes: Uint8Array): this {
    const pad = padding(bytes.length);
    this.reserve(bytes.length + pad);
    this.buffer.set(bytes, this.position);
    this.position += bytes.length;
    this.buffer.fill(0, this.position, this.position + pad);
    this.position += pad;
    return this;
  }

  private reserve(size: number): void {
    const needed = this.position + size;
    if (needed <= this.buffer.length) return;
    let capacity = Math.max(this.buffer.length * 2, 64);
    while (capacity < needed) capacity *= 2;
    const grown = Buffer.allocUnsafe(capacity);
    this.buffer.copy(grown, 0, 0, this.position);
    this.buffer = grown;
  }
}
