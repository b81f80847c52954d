/**
 * SCRAM-SHA-256 (RFC 7677) and SCRAM-SHA-1 (RFC 5802) client, without channel binding (gs2
 * header `n,,`), as Cyrus SASL's scram plugin on a libvirt daemon expects:
 *
 *   client-first   n,,n=<user>,r=<client nonce>
 *   server-first   r=<client nonce + server nonce>,s=<salt, base64>,i=<iterations>
 *   client-final   c=biws,r=<nonce>,p=<base64 ClientKey XOR HMAC(StoredKey, AuthMessage)>
 *   server-final   v=<base64 HMAC(ServerKey, AuthMessage)>   (or e=<error>)
 *
 * The server's signature is checked before the exchange counts as complete, so a server that
 * does not know the password cannot pretend it does.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import { AuthError } from "../../../errors";
import { SaslMechanism } from "./mechanism";

type Hash = "sha256" | "sha1";

const HASHES: Record<string, { hash: Hash; length: number }> = {
  "SCRAM-SHA-256": { hash: "sha256", length: 32 },
  "SCRAM-SHA-1": { hash: "sha1", length: 20 },
};

/** The gs2 header for "no channel binding, no authzid", and its base64 form for `c=`. */
const GS2_HEADER = "n,,";
/** Fewer iterations than this make the stored key cheap to brute-force; RFC 7677 asks for 4096. */
const MIN_ITERATIONS = 4096;

export interface ScramCredentials {
  authname: string;
  password: string;
  /** Fixed client nonce, for tests only. */
  nonce?: string;
}

export class ScramMechanism implements SaslMechanism {
  private state: "initial" | "sent-first" | "sent-final" | "done" = "initial";
  private readonly hash: Hash;
  private readonly keyLength: number;
  private readonly clientNonce: string;
  private readonly clientFirstBare: string;
  private expectedServerSignature: Buffer | undefined;

  constructor(
    readonly name: string,
    private readonly credentials: ScramCredentials,
  ) {
    const spec = HASHES[name];
    if (!spec) throw new AuthError(`unsupported SCRAM variant ${name}`);
    this.hash = spec.hash;
    this.keyLength = spec.length;
    this.clientNonce = credentials.nonce ?? randomBytes(18).toString("base64");
    this.clientFirstBare = `n=${saslName(normalize(credentials.authname))},r=${this.clientNonce}`;
  }

  get complete(): boolean {
    return this.state === "done";
  }

  start(): Buffer {
    this.state = "sent-first";
    return Buffer.from(GS2_HEADER + this.clientFirstBare, "utf8");
  }

  step(challenge: Buffer | null): Buffer | null {
    switch (this.state) {
      case "sent-first":
        return this.clientFinal(text(challenge, "server-first-message"));
      case "sent-final":
        this.verifyServerFinal(text(challenge, "server-final-message"));
        return null;
      default:
        throw new AuthError(
          `${this.name}: unexpected server data after the exchange ${this.state === "done" ? "completed" : "began"}`,
        );
    }
  }

  private clientFinal(serverFirst: string): Buffer {
    const attributes = parseAttributes(serverFirst, this.name);
    if (attributes.m !== undefined)
      throw new AuthError(`${this.name}: the server requires an unsupported SCRAM extension`);
    const nonce = required(attributes, "r", this.name);
    const salt = Buffer.from(required(attributes, "s", this.name), "base64");
    const iterations = Number(required(attributes, "i", this.name));
    if (!nonce.startsWith(this.clientNonce) || nonce.length === this.clientNonce.length) {
      throw new AuthError(
        `${this.name}: the server's nonce does not extend ours; refusing to continue`,
      );
    }
    if (!Number.isInteger(iterations) || iterations < MIN_ITERATIONS) {
      throw new AuthError(
        `${this.name}: the server asks for ${attributes.i} iterations; at least ${MIN_ITERATIONS} are required`,
      );
    }
    const withoutProof = `c=${Buffer.from(GS2_HEADER).toString("base64")},r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const salted = pbkdf2Sync(
      normalize(this.credentials.password),
      salt,
      iterations,
      this.keyLength,
      this.hash,
    );
    const clientKey = this.hmac(salted, "Client Key");
    const storedKey = createHash(this.hash).update(clientKey).digest();
    const signature = this.hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ signature[i]!;
    this.expectedServerSignature = this.hmac(this.hmac(salted, "Server Key"), authMessage);
    this.state = "sent-final";
    return Buffer.from(`${withoutProof},p=${proof.toString("base64")}`, "utf8");
  }

  private verifyServerFinal(serverFinal: string): void {
    const attributes = parseAttributes(serverFinal, this.name);
    if (attributes.e !== undefined)
      throw new AuthError(`${this.name}: the server refused the login (${attributes.e})`);
    const signature = Buffer.from(required(attributes, "v", this.name), "base64");
    const expected = this.expectedServerSignature!;
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      throw new AuthError(
        `${this.name}: the server's signature is wrong; it does not know the password`,
      );
    }
    this.state = "done";
  }

  private hmac(key: Buffer, data: string): Buffer {
    return createHmac(this.hash, key).update(data, "utf8").digest();
  }
}

/** RFC 5802 `saslname`: `=` and `,` are escaped as `=3D` and `=2C`. */
function saslName(name: string): string {
  return name.replace(/=/g, "=3D").replace(/,/g, "=2C");
}

/**
 * A practical subset of SASLprep (RFC 4013): non-ASCII spaces become spaces, characters
 * "commonly mapped to nothing" go, then NFKC. Plain ASCII passwords are unchanged.
 */
function normalize(value: string): string {
  let mapped = "";
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (MAPPED_TO_NOTHING.has(code)) continue;
    mapped += NON_ASCII_SPACES.has(code) ? " " : char;
  }
  return mapped.normalize("NFKC");
}

const NON_ASCII_SPACES = new Set([
  0x00a0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009,
  0x200a, 0x200b, 0x202f, 0x205f, 0x3000,
]);
const MAPPED_TO_NOTHING = new Set([
  0x00ad, 0x034f, 0x1806, 0x180b, 0x180c, 0x180d, 0x200c, 0x200d, 0x2060, 0xfe00, 0xfe01, 0xfe02,
  0xfe03, 0xfe04, 0xfe05, 0xfe06, 0xfe07, 0xfe08, 0xfe09, 0xfe0a, 0xfe0b, 0xfe0c, 0xfe0d, 0xfe0e,
  0xfe0f, 0xfeff,
]);

function text(data: Buffer | null, what: string): string {
  if (data === null) throw new AuthError(`SCRAM: the server sent no ${what}`);
  return data.toString("utf8");
}

function parseAttributes(message: string, mechanism: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const part of message.split(",")) {
    const match = /^([A-Za-z])=(.*)$/s.exec(part);
    if (!match) throw new AuthError(`${mechanism}: malformed server message`);
    attributes[match[1]!] = match[2]!;
  }
  return attributes;
}

function required(attributes: Record<string, string>, key: string, mechanism: string): string {
  const value = attributes[key];
  if (value === undefined || value === "") {
    throw new AuthError(`${mechanism}: the server message lacks its "${key}" attribute`);
  }
  return value;
}
