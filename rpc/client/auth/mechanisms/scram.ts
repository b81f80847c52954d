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
  return value
    .replace(/[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g, " ")
    .replace(/[\u00AD\u034F\u1806\u180B-\u180D\u200C\u200D\u2060\uFE00-\uFE0F\uFEFF]/g, "")
    .normalize("NFKC");
}

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
