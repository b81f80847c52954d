/**
 * The payload of a STREAM_HOLE packet (`virNetStreamHole` in virnetprotocol.x): a run of zeros in a
 * sparse stream that travels as its length instead of its bytes.
 *
 *   length  hyper          bytes of zeros to skip; always > 0
 *   flags   unsigned int   0 (no flags are defined)
 *
 * Holes are only legal on streams opened with a sparse flag (e.g. VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM);
 * the packet header is type STREAM_HOLE (6), status CONTINUE (2).
 */
import { ProtocolError } from "../errors";
import { decode, encode, hyper, struct, uint } from "../xdr";

export const VirNetStreamHole = struct({ length: hyper, flags: uint });

/** Encodes a hole of `length` bytes; the length must be a positive safe integer. */
export function encodeStreamHole(length: number): Buffer {
  if (!Number.isSafeInteger(length) || length <= 0) {
    throw new RangeError(`a stream hole must be a positive whole number of bytes, not ${length}`);
  }
  return encode(VirNetStreamHole, { length: BigInt(length), flags: 0 });
}

/** Decodes a hole payload to its length in bytes; a malformed or non-positive hole is a ProtocolError. */
export function decodeStreamHole(payload: Buffer): number {
  let hole: { length: bigint; flags: number };
  try {
    hole = decode(VirNetStreamHole, payload, "stream hole");
  } catch (error) {
    throw new ProtocolError(`malformed stream hole: ${(error as Error).message}`, { cause: error });
  }
  if (hole.length <= 0n || hole.length > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ProtocolError(`stream hole of ${hole.length} bytes is out of range`);
  }
  if (hole.flags !== 0) {
    throw new ProtocolError(`stream hole with unknown flags 0x${hole.flags.toString(16)}`);
  }
  return Number(hole.length);
}
