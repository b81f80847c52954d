/**
 * Whether to trust an SSH server's host key. Trust comes only from configuration:
 *
 *   - a pinned fingerprint (`options.ssh.hostKeyFingerprint = "SHA256:…"`): the key must match it;
 *   - otherwise known_hosts: the key must be listed for `host` / `[host]:port`;
 *   - `known_hosts_verify=auto` (OpenSSH's accept-new): an unknown host's key is appended to the
 *     known_hosts file and accepted; a changed key is still refused;
 *   - `known_hosts_verify=ignore` or `no_verify=1`: anything is accepted (insecure).
 *
 * An unknown key is refused by default (libvirt's `normal` would ask; virtwire has no one to ask).
 * A @revoked key is refused in every mode, as OpenSSH does.
 */
import { OptionNamer, optionPath } from "../client/option-names";
import { HostKeyError } from "./errors";
import {
  KnownHostsEntry,
  appendKnownHost,
  blobKeyType,
  checkHostKey,
  fingerprint,
  formatKnownHostsLine,
  knownHostName,
} from "./known-hosts";

export type HostKeyMode = "strict" | "accept-new" | "insecure";

export interface HostKeyPolicy {
  mode: HostKeyMode;
  /** The known_hosts entries read (from every file consulted). */
  entries: readonly KnownHostsEntry[];
  /** Where accept-new appends, and the file the messages point to. */
  knownHostsFile: string;
  /** Pinned `SHA256:…` fingerprints; when set, known_hosts is not consulted. */
  pinned?: readonly string[];
  /** How the messages name the options (client/option-names.ts); default `options.<path>`. */
  optionName?: OptionNamer;
}

export type HostKeyVerdict = "known" | "pinned" | "added" | "accepted-insecurely";

/** Returns how the key was trusted, or throws a HostKeyError that says what to do. */
export function verifyHostKey(
  policy: HostKeyPolicy,
  host: string,
  port: number,
  key: Buffer,
): HostKeyVerdict {
  const name = knownHostName(host, port);
  const keyType = blobKeyType(key);
  const print = fingerprint(key);
  const refuse = (problem: HostKeyError["problem"], message: string) =>
    new HostKeyError(message, problem, name, keyType, print);
  const insecure = policy.mode === "insecure";
  const optionName = policy.optionName ?? optionPath;

  if (policy.pinned && policy.pinned.length > 0) {
    if (policy.pinned.some((pin) => samePrint(pin, print))) return "pinned";
    if (insecure) return "accepted-insecurely";
    throw refuse(
      "mismatch",
      `the SSH host key of ${name} is ${keyType} ${print}, which is not the pinned fingerprint ` +
        `(${policy.pinned.join(", ")}); the connection was refused. If the server's key was ` +
        `replaced on purpose, pin the new fingerprint after checking it on the server ` +
        `(ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub)`,
    );
  }

  const result = checkHostKey(policy.entries, host, port, key);
  switch (result.status) {
    case "known":
      return "known";
    case "revoked":
      throw refuse(
        "revoked",
        `the SSH host key of ${name} (${keyType} ${print}) is marked @revoked in ` +
          `${result.entry.file} line ${result.entry.line}; the connection was refused`,
      );
    case "changed":
      if (insecure) return "accepted-insecurely";
      throw refuse(
        "changed",
        `WARNING: THE SSH HOST KEY OF ${name} HAS CHANGED. The server presented ${keyType} ${print}, ` +
          `but ${describeEntries(result.entries)} lists a different ${keyType} key for it. Someone ` +
          `could be intercepting the connection (man-in-the-middle), or the host key was replaced. ` +
          `The connection was refused. If the change is expected, check the new fingerprint on the ` +
          `server, then remove the old entry (ssh-keygen -R '${name}' -f ${result.entries[0]!.file}) ` +
          `and trust the new key`,
      );
    case "unknown":
      if (insecure) return "accepted-insecurely";
      if (policy.mode === "accept-new") {
        appendKnownHost(policy.knownHostsFile, formatKnownHostsLine(host, port, key));
        return "added";
      }
      throw refuse(
        "unknown",
        `the SSH host key of ${name} is not known: the server presented ${keyType} ${print}` +
          (result.otherTypes.length > 0
            ? ` (known_hosts has only ${result.otherTypes.join(", ")} keys for it)`
            : "") +
          `. The connection was refused. If this fingerprint is right (check on the server: ` +
          `ssh-keygen -lf /etc/ssh/ssh_host_${shortType(keyType)}_key.pub), trust it by adding ` +
          `the key to ${policy.knownHostsFile} (known_hosts= in the URI picks another file), by ` +
          `pinning it with ${optionName("ssh.hostKeyFingerprint")} = "${print}", or by letting virtwire ` +
          `record new hosts with known_hosts_verify=auto`,
      );
  }
}

/** Fingerprints compare exactly, except that trailing base64 padding is optional. */
function samePrint(pin: string, print: string): boolean {
  return pin.trim().replace(/=+$/, "") === print;
}

function describeEntries(entries: readonly KnownHostsEntry[]): string {
  return entries.map((entry) => `${entry.file} line ${entry.line}`).join(", ");
}

function shortType(keyType: string): string {
  if (keyType.startsWith("ecdsa")) return "ecdsa";
  if (keyType === "ssh-ed25519") return "ed25519";
  if (keyType === "ssh-rsa") return "rsa";
  return "*";
}
