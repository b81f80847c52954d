/**
 * Builders for packet fixtures: headers with sensible defaults and XDR payloads, so tests say what
 * a packet means rather than spelling out its bytes; and the LibvirtError a client makes of an
 * error payload.
 */
import { LibvirtError } from "../../rpc/errors";
import { Header, MessageStatus, MessageType } from "../../rpc/protocol/header";
import { encodePacket } from "../../rpc/protocol/packet";
import { RemoteProgram } from "../../rpc/protocol/remote";
import { VirNetMessageError } from "../../rpc/protocol/virnet-error";
import { encode } from "../../rpc/xdr";

export function header(fields: Partial<Header> = {}): Header {
  return {
    program: RemoteProgram.number,
    version: RemoteProgram.version,
    procedure: 1,
    type: MessageType.REPLY,
    serial: 0,
    status: MessageStatus.OK,
    ...fields,
  };
}

export function packet(
  fields: Partial<Header> = {},
  payload: Uint8Array = Buffer.alloc(0),
): Buffer {
  return encodePacket(header(fields), payload);
}

/** A STREAM packet (status CONTINUE unless given) of the stream call `procedure`, `serial`. */
export function streamPacket(
  procedure: number,
  serial: number,
  fields: Partial<Header> = {},
  payload?: Uint8Array,
): Buffer {
  const stream = { type: MessageType.STREAM, status: MessageStatus.CONTINUE };
  return packet({ procedure, serial, ...stream, ...fields }, payload);
}

/** The payload of a message with status ERROR: a libvirt error (virNetMessageError). */
export function errorPayload(error: {
  code: number;
  domain: number;
  message: string | null;
}): Buffer {
  return encode(VirNetMessageError, {
    code: error.code,
    domain: error.domain,
    message: error.message,
    level: 2,
    dom: null,
    str1: null,
    str2: null,
    str3: null,
    int1: 0,
    int2: 0,
    net: null,
  });
}

/** The LibvirtError the client makes of a libvirt error, for code that handles one. */
export function libvirtError(error: {
  code: number;
  domain: number;
  message: string | null;
}): LibvirtError {
  const unused = { str1: null, str2: null, str3: null, int1: -1, int2: -1 };
  return new LibvirtError({ ...error, level: 2, ...unused });
}

/** A REPLY with status ERROR carrying a libvirt error. */
export function errorReply(
  fields: Partial<Header>,
  error: { code: number; domain: number; message: string | null },
): Buffer {
  const status = { type: MessageType.REPLY, status: MessageStatus.ERROR };
  return packet({ ...fields, ...status }, errorPayload(error));
}

/**
 * Hex string to bytes, ignoring white space and `//` comments, so fixtures can be laid out and
 * annotated field by field.
 */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\/\/[^\n]*/g, "").replace(/\s+/g, ""), "hex");
}
