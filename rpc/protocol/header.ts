/**
 * The libvirt RPC message header (src/rpc/virnetprotocol.x, `virNetMessageHeader`).
 *
 * Every message on the wire is
 *
 *   +-----------+------------------------------------+-------------------------+
 *   | len: u32  | header: 6 × 32-bit words, 24 bytes | payload (type-specific) |
 *   +-----------+------------------------------------+-------------------------+
 *
 * where `len` counts the whole message including the length word itself, and the header is
 *
 *   prog   unsigned int   program number (REMOTE 0x20008086, KEEPALIVE 0x6b656570, …)
 *   vers   unsigned int   program version (1 for every program)
 *   proc   int            procedure number within the program
 *   type   enum           MessageType
 *   serial unsigned int   chosen by the caller; the reply and stream packets echo it
 *   status enum           MessageStatus
 */
import { ProtocolError } from "../errors";

/** `virNetMessageType`. */
export enum MessageType {
  /** client → server call; payload is the procedure's `_args` struct */
  CALL = 0,
  /** server → client reply; payload is the `_ret` struct, or an error when status is ERROR */
  REPLY = 1,
  /** an asynchronous message: server events, and keepalive in both directions */
  MESSAGE = 2,
  /** stream data (status CONTINUE), finish (OK) or abort/failure (ERROR) */
  STREAM = 3,
  CALL_WITH_FDS = 4,
  REPLY_WITH_FDS = 5,
  /** a hole in a sparse stream; payload is `virNetStreamHole` */
  STREAM_HOLE = 6,
}

/** `virNetMessageStatus`. */
export enum MessageStatus {
  OK = 0,
  ERROR = 1,
  CONTINUE = 2,
}

export interface Header {
  program: number;
  version: number;
  procedure: number;
  type: MessageType;
  serial: number;
  status: MessageStatus;
}

/** Size of the length word that precedes every message (`VIR_NET_MESSAGE_LEN_MAX`). */
export const LENGTH_WORD_SIZE = 4;
/** Size of the header (`VIR_NET_MESSAGE_HEADER_MAX`). */
export const HEADER_SIZE = 24;
/** Largest header + payload a message may have (`VIR_NET_MESSAGE_MAX`, 32 MiB). */
export const MESSAGE_MAX = 33554432;
/** Largest payload (`VIR_NET_MESSAGE_PAYLOAD_MAX`). */
export const PAYLOAD_MAX = MESSAGE_MAX - HEADER_SIZE;
/** Chunk size libvirt itself uses for stream data (`VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX`). */
export const STREAM_CHUNK_SIZE = 262120;
/** Largest string in an error payload (`VIR_NET_MESSAGE_STRING_MAX`). */
export const MESSAGE_STRING_MAX = 4194304;

const MESSAGE_TYPE_MAX = MessageType.STREAM_HOLE;
const MESSAGE_STATUS_MAX = MessageStatus.CONTINUE;

export function encodeHeader(header: Header, target: Buffer, offset: number): void {
  target.writeUInt32BE(header.program, offset);
  target.writeUInt32BE(header.version, offset + 4);
  target.writeInt32BE(header.procedure, offset + 8);
  target.writeInt32BE(header.type, offset + 12);
  target.writeUInt32BE(header.serial, offset + 16);
  target.writeInt32BE(header.status, offset + 20);
}

/** Reads and validates a header; an unknown type or status is a protocol error. */
export function decodeHeader(source: Buffer, offset: number): Header {
  const type = source.readInt32BE(offset + 12);
  const status = source.readInt32BE(offset + 20);
  if (type < 0 || type > MESSAGE_TYPE_MAX) {
    throw new ProtocolError(`unknown message type ${type} in header`);
  }
  if (status < 0 || status > MESSAGE_STATUS_MAX) {
    throw new ProtocolError(`unknown message status ${status} in header`);
  }
  return {
    program: source.readUInt32BE(offset),
    version: source.readUInt32BE(offset + 4),
    procedure: source.readInt32BE(offset + 8),
    type,
    serial: source.readUInt32BE(offset + 16),
    status,
  };
}
