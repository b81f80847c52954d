/**
 * Errors of the rpc/ layer. Server failures are `LibvirtError` (code and domain from virterror.h);
 * everything the client itself detects has its own class, so callers can tell "libvirt said no"
 * from "the bytes were wrong" from "the connection went away".
 */
import {
  ErrorCode,
  ErrorDomain,
  ErrorLevel,
  errorCodeName,
  errorDomainName,
} from "./protocol/error-codes";

/** Base class of every error raised by virtwire's rpc/ layer. */
export class VirtwireRpcError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * XDR data that cannot be encoded or decoded: bad padding, lengths over a maximum, short input.
 * `field` is the path of the struct field it happened in (`["dom", "name"]`), outermost first.
 */
export class XdrError extends VirtwireRpcError {
  readonly field: readonly string[];

  constructor(
    /** What is wrong, without the field path. */
    readonly problem: string,
    options?: { cause?: unknown; field?: readonly string[] },
  ) {
    const field = options?.field ?? [];
    super(field.length ? `field ${field.join(".")}: ${problem}` : problem, options);
    this.field = field;
  }
}

/** A frame or header that breaks the libvirt RPC protocol (bad length, unknown type, stray reply). */
export class ProtocolError extends VirtwireRpcError {}

/** The connection closed, or died, while a call was pending or a new call was attempted. */
export class ConnectionClosedError extends VirtwireRpcError {}

/**
 * The daemon stopped answering: nothing arrived from it for `silentMs` although keepalive PINGs
 * were sent (libvirt's virKeepAlive). The connection has been closed; reconnecting is up to the
 * caller.
 */
export class KeepaliveTimeoutError extends ConnectionClosedError {
  constructor(
    /** How long nothing was received, in milliseconds. */
    readonly silentMs: number,
    /** The keepalive interval in seconds and the number of unanswered PINGs tolerated. */
    readonly interval: number,
    readonly count: number,
  ) {
    super(
      `the libvirt daemon stopped answering: nothing received for ${(silentMs / 1000).toFixed(1)} s ` +
        `(${count} keepalive PINGs at ${interval} s intervals unanswered); the connection was closed`,
    );
  }
}

/**
 * The common class of the two deadlines, CallTimeoutError and StreamTimeoutError: never thrown
 * itself, but `instanceof TimeoutError` catches either (the daemon is slow, the connection is fine).
 */
export abstract class TimeoutError extends VirtwireRpcError {}

/**
 * A call got no reply within its deadline (client/deadlines.ts). The call was abandoned: its reply,
 * should one still come, is dropped. The connection stays open, since the daemon serves calls on
 * several worker threads and one stuck on a hung QEMU or storage does not hold up the others;
 * libvirt's own client never gives up on a call at all.
 */
export class CallTimeoutError extends TimeoutError {
  constructor(
    /** libvirt's name of the procedure, e.g. `DomainCreate`. */
    readonly procedure: string,
    readonly timeoutMs: number,
    /** The option that set the deadline, for the message: `callTimeoutMs`, `longCallTimeoutMs`… */
    readonly option: string,
  ) {
    super(
      `the libvirt daemon did not answer ${procedure} within ${seconds(timeoutMs)}; the call was ` +
        `abandoned, though it may still complete on the host. Check the daemon there (its log; a ` +
        `hung QEMU process or storage), or allow ${procedure} more time (${option})`,
    );
  }
}

/**
 * A stream waited `timeoutMs` for the daemon without a sign of it: no data, no room to send, no
 * confirmation of its finish. The stream was aborted; the connection stays open.
 */
export class StreamTimeoutError extends TimeoutError {
  constructor(
    /** The stream's procedure, e.g. `StorageVolUpload`. */
    readonly procedure: string,
    readonly timeoutMs: number,
    /** What the stream waited for. */
    readonly waitingFor: "data" | "room to send" | "the finish to be confirmed" | "the abort",
    readonly option: string,
  ) {
    super(
      `the ${procedure} stream waited ${seconds(timeoutMs)} for ${waitingFor} from the libvirt ` +
        `daemon and was aborted. Check the daemon and the volume's storage on the host, or allow ` +
        `longer waits (${option})`,
    );
  }
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/** Authentication could not be carried out (no usable method, missing credential, rejected). */
export class AuthError extends VirtwireRpcError {}

/** A libvirt URI that cannot be parsed or uses an unsupported parameter or transport. */
export class UriError extends VirtwireRpcError {}

/** The fields of libvirt's `virNetMessageError` / `remote_error`, as sent by the daemon. */
export interface LibvirtErrorFields {
  code: number;
  domain: number;
  message: string | null;
  level: number;
  str1: string | null;
  str2: string | null;
  str3: string | null;
  int1: number;
  int2: number;
}

/** An error reported by the libvirt daemon, carrying libvirt's error code and domain. */
export class LibvirtError extends VirtwireRpcError {
  readonly code: number;
  readonly domain: number;
  readonly level: number;
  readonly str1: string | null;
  readonly str2: string | null;
  readonly str3: string | null;
  readonly int1: number;
  readonly int2: number;
  /** The procedure that failed, e.g. `DomainLookupByName`, when known. */
  readonly procedure?: string;

  constructor(fields: LibvirtErrorFields, procedure?: string) {
    // No stack trace: a daemon's error is made in the socket's data handler, whose frames say
    // nothing about the caller, and capturing them cost a failed call about 7 µs of client CPU
    // (a third of it; "not found" answers are frequent). `stack` is just "LibvirtError: message".
    const stackTraceLimit = Error.stackTraceLimit;
    const settable = !Object.isFrozen(Error); // frozen under SES lockdown / --frozen-intrinsics
    if (settable) Error.stackTraceLimit = 0;
    try {
      super(fields.message ?? "Unknown error");
    } finally {
      if (settable) Error.stackTraceLimit = stackTraceLimit;
    }
    this.code = fields.code;
    this.domain = fields.domain;
    this.level = fields.level;
    this.str1 = fields.str1;
    this.str2 = fields.str2;
    this.str3 = fields.str3;
    this.int1 = fields.int1;
    this.int2 = fields.int2;
    this.procedure = procedure;
  }

  /** libvirt's symbolic name of the code, e.g. `VIR_ERR_NO_DOMAIN`. */
  get codeName(): string {
    return errorCodeName(this.code);
  }

  /** libvirt's symbolic name of the domain, e.g. `VIR_FROM_QEMU`. */
  get domainName(): string {
    return errorDomainName(this.domain);
  }

  get isWarning(): boolean {
    return this.level === ErrorLevel.WARNING;
  }
}

const NOT_FOUND_CODES = new Set<number>([
  ErrorCode.NO_DOMAIN,
  ErrorCode.NO_NETWORK,
  ErrorCode.NO_STORAGE_POOL,
  ErrorCode.NO_STORAGE_VOL,
  ErrorCode.NO_NODE_DEVICE,
  ErrorCode.NO_INTERFACE,
  ErrorCode.NO_NWFILTER,
  ErrorCode.NO_SECRET,
  ErrorCode.NO_DOMAIN_SNAPSHOT,
  ErrorCode.NO_NWFILTER_BINDING,
  ErrorCode.NO_DOMAIN_CHECKPOINT,
  ErrorCode.NO_NETWORK_PORT,
]);

/** True for libvirt's "no such object" errors (domain, network, pool, volume, secret, …). */
export function isNotFound(error: unknown): error is LibvirtError {
  return error instanceof LibvirtError && NOT_FOUND_CODES.has(error.code);
}

/**
 * True when libvirt refused a storage pool refresh because a volume of the pool is being built:
 * storagePoolRefresh's "pool '%s' has asynchronous jobs running" (libvirt 9–11), reported as
 * VIR_ERR_INTERNAL_ERROR, so only its message tells it from other failures. A daemon that
 * translates its messages is not recognised; the caller then fails at once instead of retrying.
 */
export function isPoolBusy(error: unknown): error is LibvirtError {
  return (
    error instanceof LibvirtError &&
    error.code === ErrorCode.INTERNAL_ERROR &&
    /asynchronous jobs/.test(error.message)
  );
}

/** True when the error is a LibvirtError with the given code. */
export function hasErrorCode(error: unknown, code: ErrorCode): error is LibvirtError {
  return error instanceof LibvirtError && error.code === code;
}

export const isNoDomain = (e: unknown): e is LibvirtError => hasErrorCode(e, ErrorCode.NO_DOMAIN);
export const isNoNetwork = (e: unknown): e is LibvirtError => hasErrorCode(e, ErrorCode.NO_NETWORK);
export const isNoStoragePool = (e: unknown): e is LibvirtError =>
  hasErrorCode(e, ErrorCode.NO_STORAGE_POOL);
export const isNoStorageVol = (e: unknown): e is LibvirtError =>
  hasErrorCode(e, ErrorCode.NO_STORAGE_VOL);

/**
 * True when the server does not implement the call: `VIR_ERR_NO_SUPPORT`, or the RPC error
 * "unknown procedure" that older daemons send for procedures they do not know (libvirt's own
 * client remaps the latter to NO_SUPPORT; see remote_driver.c).
 */
export function isNoSupport(error: unknown): error is LibvirtError {
  if (!(error instanceof LibvirtError)) return false;
  if (error.code === ErrorCode.NO_SUPPORT) return true;
  return (
    error.code === ErrorCode.RPC &&
    (error.domain === ErrorDomain.REMOTE || error.domain === ErrorDomain.RPC) &&
    error.message.startsWith("unknown procedure")
  );
}
