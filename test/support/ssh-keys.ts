/**
 * SSH key pairs for tests. ssh2's generateKeyPairSync("ed25519") writes a malformed pair about
 * once in 300 (13 of 4 000 here: neither ssh2's parser nor ssh-keygen accept it), which made
 * tests that load such a key fail at random. Pairs are generated again until both halves parse.
 */
import { utils } from "ssh2";

export interface SshKeyPair {
  /** OpenSSH private key, encrypted when a passphrase was given. */
  private: string;
  /** `type base64 comment` */
  public: string;
}

export interface SshKeyOptions {
  comment?: string;
  /** Encrypts the private key (aes256-ctr, bcrypt with few rounds: tests want speed). */
  passphrase?: string;
  /** Key size for ecdsa (256, 384, 521) and rsa. */
  bits?: number;
}

type Generate = (type: string, options: object) => SshKeyPair;

export function generateSshKeyPair(
  type: "ed25519" | "ecdsa" | "rsa" = "ed25519",
  options: SshKeyOptions = {},
): SshKeyPair {
  const { passphrase, ...settings } = options;
  const encryption = passphrase ? { passphrase, cipher: "aes256-ctr", rounds: 4 } : {};
  const generate = utils.generateKeyPairSync as unknown as Generate;
  for (let attempt = 1; attempt <= 20; attempt++) {
    const pair = generate(type, { ...settings, ...encryption });
    const parses = (text: string, secret?: string) =>
      !(utils.parseKey(text, secret) instanceof Error);
    if (parses(pair.private, passphrase) && parses(pair.public)) return pair;
  }
  throw new Error(`ssh2 generated 20 malformed ${type} key pairs in a row`);
}
