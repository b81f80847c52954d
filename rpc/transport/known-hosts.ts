/**
 * OpenSSH known_hosts files (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"), read and appended to.
 *
 *   [@revoked|@cert-authority] hostpatterns keytype base64-key [comment]
 *
 * Host patterns are comma-separated, may use `*` and `?`, may be negated with `!`, and name a
 * non-default port as `[host]:port`. A hashed entry `|1|base64(salt)|base64(HMAC-SHA1(salt,
 * name))` stands for exactly one name. Keys are compared as their SSH wire-format blobs.
 * `@cert-authority` lines are skipped: host certificates are not supported.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { AuthError } from "../errors";

export const DEFAULT_SSH_PORT = 22;

export interface KnownHostsEntry {
  file: string;
  /** 1-based line number, for messages. */
  line: number;
  marker?: "revoked" | "cert-authority";
  /** The host pattern list as written, or the hashed form `|1|salt|hash`. */
  hosts: string;
  keyType: string;
  /** The public key blob (SSH wire format). */
  key: Buffer;
}

/** Parses a known_hosts file; lines it cannot understand are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string, file = "known_hosts"): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === "" || fields[0].startsWith("#")) return;
    let marker: KnownHostsEntry["marker"];
    if (fields[0] === "@revoked" || fields[0] === "@cert-authority") {
      marker = fields.shift()!.slice(1) as KnownHostsEntry["marker"];
    } else if (fields[0].startsWith("@")) {
      return;
    }
    const [hosts, keyType, base64] = fields;
    if (!hosts || !keyType || !base64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return;
    const key = Buffer.from(base64, "base64");
    if (blobKeyType(key) !== keyType) return;
    entries.push({ file, line: index + 1, marker, hosts, keyType, key });
  });
  return entries;
}

/** Reads and parses the files that exist; missing files count as empty. */
export function readKnownHosts(files: readonly string[]): KnownHostsEntry[] {
  return files.flatMap((file) => {
    if (!existsSync(file)) return [];
    try {
      return parseKnownHosts(readFileSync(file, "utf8"), file);
    } catch (error) {
      throw new AuthError(`cannot read the known_hosts file ${file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  });
}

/** The name a host is known under: `host` on port 22, else `[host]:port`. */
export function knownHostName(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === DEFAULT_SSH_PORT ? name : `[${name}]:${port}`;
}

/** Whether an entry's host field covers the name (`knownHostName`). */
export function entryMatchesHost(entry: KnownHostsEntry, name: string): boolean {
  if (entry.hosts.startsWith("|")) return hashedMatches(entry.hosts, name);
  let matched = false;
  for (const pattern of entry.hosts.toLowerCase().split(",")) {
    if (pattern.startsWith("!")) {
      if (wildcardMatches(pattern.slice(1), name)) return false;
    } else if (wildcardMatches(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

export type HostKeyStatus =
  /** A matching @revoked line lists this key. */
  | { status: "revoked"; entry: KnownHostsEntry }
  /** An entry for the host has exactly this key. */
  | { status: "known"; entry: KnownHostsEntry }
  /** The host is known, with a different key of the same type: possibly an attack. */
  | { status: "changed"; entries: KnownHostsEntry[] }
  /** No entry for this host and key type (`otherTypes`: key types the host is known with). */
  | { status: "unknown"; otherTypes: string[] };

/** Looks a presented host key up, as OpenSSH's check_host_in_hostfile does. */
export function checkHostKey(
  entries: readonly KnownHostsEntry[],
  host: string,
  port: number,
  key: Buffer,
): HostKeyStatus {
  const name = knownHostName(host, port);
  const keyType = blobKeyType(key);
  const forHost = entries.filter((entry) => entryMatchesHost(entry, name));
  const revoked = forHost.find((e) => e.marker === "revoked" && e.key.equals(key));
  if (revoked) return { status: "revoked", entry: revoked };
  const plain = forHost.filter((entry) => entry.marker === undefined);
  const known = plain.find((entry) => entry.key.equals(key));
  if (known) return { status: "known", entry: known };
  const sameType = plain.filter((entry) => entry.keyType === keyType);
  if (sameType.length > 0) return { status: "changed", entries: sameType };
  return { status: "unknown", otherTypes: [...new Set(plain.map((e) => e.keyType))] };
}

/** The key types a host is known with (for preferring them in the key exchange). */
export function knownKeyTypes(
  entries: readonly KnownHostsEntry[],
  host: string,
  port: number,
): string[] {
  const name = knownHostName(host, port);
  return [
    ...new Set(
      entries
        .filter((entry) => entry.marker === undefined && entryMatchesHost(entry, name))
        .map((entry) => entry.keyType),
    ),
  ];
}

/** A known_hosts line for the key, in plain or hashed form. */
export function formatKnownHostsLine(
  host: string,
  port: number,
  key: Buffer,
  options: { hashed?: boolean; salt?: Buffer } = {},
): string {
  const name = knownHostName(host, port);
  const hosts = options.hashed ? hashHostName(name, options.salt) : name;
  return `${hosts} ${blobKeyType(key)} ${key.toString("base64")}`;
}

/** `|1|salt|hash` for a name (OpenSSH's HashKnownHosts form); the salt is random by default. */
export function hashHostName(name: string, salt?: Buffer): string {
  const nonce = salt ?? randomBytes(20);
  const hash = createHmac("sha1", nonce).update(name).digest();
  return `|1|${nonce.toString("base64")}|${hash.toString("base64")}`;
}

/** Appends a line, creating the file (and a 0700 directory) when missing. */
export function appendKnownHost(file: string, line: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  let prefix = "";
  if (existsSync(file)) {
    const current = readFileSync(file);
    if (current.length > 0 && current[current.length - 1] !== 0x0a) prefix = "\n";
  }
  appendFileSync(file, `${prefix}${line}\n`, { mode: 0o600 });
}

/** OpenSSH's fingerprint: `SHA256:` + unpadded base64 of the SHA-256 of the key blob. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

/** The key type named inside a key blob (its first SSH string), e.g. `ssh-ed25519`. */
export function blobKeyType(key: Buffer): string {
  if (key.length < 4) return "";
  const length = key.readUInt32BE(0);
  if (length > key.length - 4 || length > 64) return "";
  return key.subarray(4, 4 + length).toString("latin1");
}

function hashedMatches(field: string, name: string): boolean {
  const parts = field.split("|");
  if (parts.length !== 4 || parts[1] !== "1") return false;
  const salt = Buffer.from(parts[2]!, "base64");
  const expected = Buffer.from(parts[3]!, "base64");
  const actual = createHmac("sha1", salt).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** OpenSSH match_pattern: `*` any run of characters, `?` one character, nothing else special. */
function wildcardMatches(pattern: string, name: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${source}$`, "s").test(name);
}
