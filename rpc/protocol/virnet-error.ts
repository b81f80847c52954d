/**
 * The error payload of a failed REPLY or STREAM (`virNetMessageError` in virnetprotocol.x; the
 * same layout as `remote_error`):
 *
 *   code    int             virErrorNumber
 *   domain  int             virErrorDomain
 *   message string*         human-readable text, may be absent
 *   level   int             virErrorLevel
 *   dom     struct*         { string name; opaque uuid[16]; int id } — always absent in practice
 *   str1    string*
 *   str2    string*
 *   str3    string*
 *   int1    int
 *   int2    int
 *   net     struct*         { string name; opaque uuid[16] } — always absent in practice
 */
import { LibvirtError, ProtocolError } from "../errors";
import { decode, fixedOpaque, int, optional, string, struct } from "../xdr";
import { MESSAGE_STRING_MAX } from "./header";

const ErrorString = optional(string(MESSAGE_STRING_MAX));

export const VirNetMessageError = struct({
  code: int,
  domain: int,
  message: ErrorString,
  level: int,
  dom: optional(struct({ name: string(MESSAGE_STRING_MAX), uuid: fixedOpaque(16), id: int })),
  str1: ErrorString,
  str2: ErrorString,
  str3: ErrorString,
  int1: int,
  int2: int,
  net: optional(struct({ name: string(MESSAGE_STRING_MAX), uuid: fixedOpaque(16) })),
});

/**
 * Decodes the error payload of a failed REPLY or STREAM packet into a LibvirtError. An
 * undecodable payload becomes a ProtocolError naming `what` it was ("error reply to …").
 */
export function decodeLibvirtError(
  payload: Buffer,
  procedure: string,
  what: string,
): LibvirtError | ProtocolError {
  try {
    return new LibvirtError(decode(VirNetMessageError, payload, "error payload"), procedure);
  } catch (error) {
    return new ProtocolError(`undecodable ${what}: ${(error as Error).message}`, { cause: error });
  }
}
