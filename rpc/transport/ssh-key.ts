/**
 * SSH private keys, read (and decrypted) once. A caller that checks a key before connecting, as
 * the provider does at preview, passes on the SshPrivateKey it got as `options.ssh.privateKey`,
 * so the SSH transport does not read it again. A key ssh2 cannot use becomes a typed problem.
 */
import type { ParsedKey } from "ssh2";
import type * as Ssh2 from "ssh2";
import { loadSsh2 } from "./ssh2";

const ssh2 = () => loadSsh2<typeof Ssh2>();

/**
 * A private key as ssh2's utils.parseKey returns it (its ParsedKey), in a type of our own: the
 * published declarations must not name ssh2's types (@types/ssh2 is a development dependency).
 */
export interface SshParsedKey {
  readonly type: string;
  readonly comment: string;
  isPrivateKey(): boolean;
}

/** A private key that was read and decrypted (readSshPrivateKey); opaque outside the transport. */
export class SshPrivateKey {
  /** Makes the type nominal: a plain object is never taken for a key. */
  protected readonly kind = "SshPrivateKey";
  protected constructor() {}
}

class ReadKey extends SshPrivateKey {
  constructor(readonly parsed: ParsedKey) {
    super();
  }
}

/** The key as ssh2 takes it, for the SSH transport (in a type of our own, see ssh-auth.ts). */
export function parsedKey(key: SshPrivateKey): SshParsedKey {
  if (!(key instanceof ReadKey))
    throw new TypeError("an SshPrivateKey comes from readSshPrivateKey");
  return key.parsed;
}

/** Why a key cannot be used: ssh2's words, and whether the (right) passphrase is what is missing. */
export interface SshKeyProblem {
  problem: string;
  passphrase: boolean;
}

/** Reads a private key (OpenSSH or PEM text), decrypting it with `passphrase` if it is encrypted. */
export function readSshPrivateKey(
  data: string | Buffer,
  passphrase?: string,
): SshPrivateKey | SshKeyProblem {
  const parsed = ssh2().utils.parseKey(data, passphrase);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key instanceof Error || key === undefined || !key.isPrivateKey()) {
    const problem = key instanceof Error ? key.message : "it is not a private key";
    return { problem, passphrase: key instanceof Error && isPassphraseProblem(key) };
  }
  return new ReadKey(key);
}

/**
 * Whether ssh2's parseKey failed for want of the (right) passphrase. ssh2 gives its errors no code,
 * so this is the one place its words are read; they are English and never translated. It stands
 * for these of ssh2/lib/protocol/keyParser.js: "Encrypted private OpenSSH key detected, but no
 * passphrase given" (and the same for old PEM and PPK keys), "OpenSSH key integrity check failed
 * -- bad passphrase?" (and PPK's), "Malformed OpenSSH private key. Bad passphrase?", "Failed to
 * generate information to decrypt key", and those naming an encrypted key's cipher or format.
 */
function isPassphraseProblem(error: Error): boolean {
  return /passphrase|decrypt|encrypt/i.test(error.message);
}
