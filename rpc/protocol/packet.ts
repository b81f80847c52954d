/**
 * Framing: turning headers and payloads into length-prefixed messages, and a byte stream back into
 * whole packets. No I/O here: the decoder is fed chunks as they arrive, however they are split.
 */
import { ProtocolError } from "../errors";
import {
  HEADER_SIZE,
  Header,
  LENGTH_WORD_SIZE,
  MESSAGE_MAX,
  PAYLOAD_MAX,
  decodeHeader,
  encodeHeader,
} from "./header";

export interface Packet {
  header: Header;
  payload: Buffer;
}

/** One complete message: length word, header, payload. */
export function encodePacket(header: Header, payload: Uint8Array = EMPTY): Buffer {
  const message = Buffer.allocUnsafe(PREFIX_SIZE + payload.length);
  writePrefix(header, payload.length, message);
  message.set(payload, PREFIX_SIZE);
  return message;
}

/**
 * The first 28 bytes of a message whose payload is `payloadLength` bytes: length word and header.
 * Sent followed by the payload, they make the same bytes as `encodePacket`, without copying the
 * payload (a 256 KiB stream packet).
 */
export function encodePacketPrefix(header: Header, payloadLength: number): Buffer {
  const prefix = Buffer.allocUnsafe(PREFIX_SIZE);
  writePrefix(header, payloadLength, prefix);
  return prefix;
}

const PREFIX_SIZE = LENGTH_WORD_SIZE + HEADER_SIZE;

function writePrefix(header: Header, payloadLength: number, target: Buffer): void {
  if (payloadLength > PAYLOAD_MAX) {
    throw new ProtocolError(
      `message payload of ${payloadLength} bytes exceeds the protocol maximum of ${PAYLOAD_MAX}`,
    );
  }
  target.writeUInt32BE(PREFIX_SIZE + payloadLength, 0);
  encodeHeader(header, target, LENGTH_WORD_SIZE);
}

const EMPTY = Buffer.alloc(0);

/**
 * Reassembles packets from a byte stream. Chunks are kept as a list and joined once per message,
 * so a 32 MiB message arriving in 64 KiB pieces is copied once, not once per piece.
 *
 * A length word outside [28, 4 + MESSAGE_MAX] is a ProtocolError, raised as soon as the four
 * bytes are seen, before anything is buffered for it. After an error the decoder stays failed.
 */
export class PacketDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Length of the message being assembled, once its length word has been read. */
  private expected = 0;
  private failure: ProtocolError | undefined;

  /** Bytes received that do not yet form a whole packet. */
  get pendingBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): Packet[] {
    if (this.failure) throw this.failure;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const packets: Packet[] = [];
    try {
      for (;;) {
        if (this.expected === 0) {
          if (this.buffered < LENGTH_WORD_SIZE) break;
          this.expected = checkedLength(this.peekLength());
        }
        if (this.buffered < this.expected) break;
        const message = this.take(this.expected);
        this.expected = 0;
        packets.push({
          header: decodeHeader(message, LENGTH_WORD_SIZE),
          payload: message.subarray(LENGTH_WORD_SIZE + HEADER_SIZE),
        });
      }
    } catch (error) {
      this.failure = error instanceof ProtocolError ? error : new ProtocolError(String(error));
      throw this.failure;
    }
    return packets;
  }

  /** Called at end of stream: bytes of an unfinished message mean the peer cut it short. */
  end(): void {
    if (this.failure) return;
    if (this.buffered > 0) {
      this.failure = new ProtocolError(
        `connection ended in the middle of a message (${this.buffered} of ${this.expected || "at least 4"} bytes received)`,
      );
      throw this.failure;
    }
  }

  private peekLength(): number {
    const first = this.chunks[0]!;
    if (first.length >= LENGTH_WORD_SIZE) return first.readUInt32BE(0);
    this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.readUInt32BE(0);
  }

  private take(size: number): Buffer {
    let joined: Buffer;
    const first = this.chunks[0]!;
    if (first.length >= size) {
      joined = first.subarray(0, size);
      if (first.length === size) this.chunks.shift();
      else this.chunks[0] = first.subarray(size);
    } else {
      joined = Buffer.allocUnsafe(size);
      let filled = 0;
      while (filled < size) {
        const chunk = this.chunks[0]!;
        const used = Math.min(chunk.length, size - filled);
        chunk.copy(joined, filled, 0, used);
        filled += used;
        if (used === chunk.length) this.chunks.shift();
        else this.chunks[0] = chunk.subarray(used);
      }
    }
    this.buffered -= size;
    return joined;
  }
}

function checkedLength(length: number): number {
  if (length < LENGTH_WORD_SIZE + HEADER_SIZE) {
    throw new ProtocolError(
      `bad message length ${length}: a message is at least ${LENGTH_WORD_SIZE + HEADER_SIZE} bytes`,
    );
  }
  if (length - LENGTH_WORD_SIZE > MESSAGE_MAX) {
    throw new ProtocolError(
      `message length ${length} exceeds the protocol maximum of ${MESSAGE_MAX + LENGTH_WORD_SIZE}`,
    );
  }
  return length;
}
