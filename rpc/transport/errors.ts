/**
 * Errors of the transport layer beyond those in rpc/errors.ts.
 */
import { AuthError } from "../errors";

export type HostKeyProblem =
  /** No trusted key for the host, and nothing in the configuration trusts a new one. */
  | "unknown"
  /** The host is known with a different key of the same type. */
  | "changed"
  /** The key is listed as @revoked. */
  | "revoked"
  /** The key does not match the pinned fingerprint(s). */
  | "mismatch";

/** The SSH server's host key was refused; the message says how to trust it if it is right. */
export class HostKeyError extends AuthError {
  constructor(
    message: string,
    readonly problem: HostKeyProblem,
    /** `host` or `[host]:port`, as in known_hosts. */
    readonly host: string,
    /** e.g. `ssh-ed25519` */
    readonly keyType: string,
    /** `SHA256:…`, as `ssh-keygen -lf` prints it. */
    readonly fingerprint: string,
  ) {
    super(message);
  }
}
