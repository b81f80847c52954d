/**
 * A SASL client mechanism as pure steps (no I/O): the SASL exchange in ../sasl.ts feeds it the
 * server's challenges and sends what it returns. `null` means "no data" (libvirt's `nil = 1`),
 * which SASL distinguishes from empty data.
 */
export interface SaslMechanism {
  /** The IANA mechanism name, e.g. `SCRAM-SHA-256`. */
  readonly name: string;
  /** The initial response sent with AUTH_SASL_START, or null for none. */
  start(): Buffer | null;
  /** Answers one server challenge; throws an AuthError when the server's data is wrong. */
  step(challenge: Buffer | null): Buffer | null;
  /** True once the mechanism has nothing more to send and has verified the server, if it can. */
  readonly complete: boolean;
}
