/**
 * The SSH transports (`+ssh`, `+libssh`, `+libssh2`), spoken in-process with the `ssh2` package:
 * log in, check the host key, run libvirt's remote command (virt-ssh-helper, or `nc -U` on the
 * daemon socket; see ssh-command.ts) and use its stdin/stdout as the RPC stream. The daemon sees
 * a UNIX-socket client, so the connection counts as secure.
 *
 * Defaults differ by scheme, as in libvirt: `+ssh` follows OpenSSH (user: the local user name;
 * known hosts: ~/.ssh/known_hosts, then /etc/ssh/ssh_known_hosts); `+libssh`/`+libssh2` follow
 * libvirt's in-process transports (user: root; known hosts: $XDG_CONFIG_HOME/libvirt/known_hosts).
 * `known_hosts=` (or options.ssh.knownHosts) replaces the list with one file. Port 22 unless the
 * URI gives one. The dial gives up when the connect deadline's signal aborts; ssh2's own handshake
 * timer is off, so that one deadline covers the whole dial.
 */
import { homedir, userInfo } from "node:os";
import type { Duplex } from "node:stream";
import type { AnyAuthMethod, AuthHandlerMiddleware, Client, ClientChannel, ParsedKey } from "ssh2";
import { ConnectionClosedError, UriError } from "../errors";
import { CredentialSource } from "../client/auth/credentials";
import { abortReason } from "../client/connect-deadline";
import { OptionNamer } from "../client/option-names";
import { HostKeyPolicy, verifyHostKey } from "./host-key";
import { DEFAULT_SSH_PORT, knownKeyTypes, readKnownHosts } from "./known-hosts";
import { processDuplex } from "./process-duplex";
import { SshAuthAttempt, SshAuthSession, SshOptions, planSshAuth } from "./ssh-auth";
import { remoteCommandFor } from "./ssh-command";
import type * as Ssh2 from "ssh2";
import { loadSsh2 } from "./ssh2";
import { describeNetworkError, formatHostPort } from "./tcp";
import { LibvirtUri, parseSshAuth, redact, uriFlag } from "./uri";

const ssh2 = () => loadSsh2<typeof Ssh2>();

export interface SshDialOptions {
  readOnly: boolean;
  ssh: SshOptions;
  credentials: readonly CredentialSource[];
  /** How messages name the options (client/option-names.ts); default `options.<path>`. */
  optionName?: OptionNamer;
  signal?: AbortSignal;
}

/** The host key algorithms ssh2 offers, most preferred first. */
const HOST_KEY_ALGORITHMS = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "rsa-sha2-512",
  "rsa-sha2-256",
  "ssh-rsa",
] as const;
type HostKeyAlgorithm = (typeof HOST_KEY_ALGORITHMS)[number];

export function sshUser(uri: LibvirtUri): string {
  if (uri.user) return uri.user;
  if (uri.transport !== "ssh") return "root";
  try {
    return userInfo().username;
  } catch {
    return process.env.USER || process.env.LOGNAME || "root";
  }
}

export function knownHostsFiles(uri: LibvirtUri, home = homedir()): string[] {
  if (uri.params.known_hosts) return [uri.params.known_hosts];
  if (uri.transport === "ssh") return [`${home}/.ssh/known_hosts`, "/etc/ssh/ssh_known_hosts"];
  const config = process.env.XDG_CONFIG_HOME || `${home}/.config`;
  return [`${config}/libvirt/known_hosts`];
}

/** The host key policy from the URI and options (see host-key.ts). */
export function hostKeyPolicy(
  uri: LibvirtUri,
  ssh: SshOptions,
  optionName?: OptionNamer,
): HostKeyPolicy {
  const verify = uri.params.known_hosts_verify ?? "normal";
  const mode =
    uriFlag(uri, "no_verify") || verify === "ignore"
      ? "insecure"
      : verify === "auto"
        ? "accept-new"
        : "strict";
  const files = ssh.knownHosts !== undefined ? [ssh.knownHosts] : knownHostsFiles(uri);
  const pinned = ssh.hostKeyFingerprint;
  return {
    mode,
    entries: readKnownHosts(files),
    knownHostsFile: files[0]!,
    pinned: pinned === undefined ? undefined : typeof pinned === "string" ? [pinned] : pinned,
    optionName,
  };
}

/** Host key algorithms with those the host is known by first, as OpenSSH orders them. */
export function preferredHostKeyAlgorithms(knownTypes: readonly string[]): HostKeyAlgorithm[] {
  const known = (algorithm: string) =>
    knownTypes.some((type) =>
      type === "ssh-rsa"
        ? algorithm.startsWith("rsa-sha2-") || algorithm === "ssh-rsa"
        : type === algorithm,
    );
  return [...HOST_KEY_ALGORITHMS.filter(known), ...HOST_KEY_ALGORITHMS.filter((a) => !known(a))];
}

export async function dialSsh(uri: LibvirtUri, options: SshDialOptions): Promise<Duplex> {
  if (uri.params.command !== undefined && uri.params.command !== "ssh") {
    throw new UriError(
      `command=${uri.params.command} picks a local ssh binary, but virtwire speaks SSH itself and runs no binary; drop command= from ${redact(uri.uri)}`,
    );
  }
  const host = uri.host ?? "localhost";
  const port = uri.port ?? DEFAULT_SSH_PORT;
  const where = formatHostPort(host, port);
  const username = sshUser(uri);
  const policy = hostKeyPolicy(uri, options.ssh, options.optionName);
  const auth = new SshAuthSession(
    planSshAuth({
      username,
      sshauth: uri.params.sshauth ? parseSshAuth(uri.params.sshauth, uri.uri) : undefined,
      keyfile: uri.params.keyfile,
      ssh: options.ssh,
      credentials: options.credentials,
      context: { service: "ssh", host },
      optionName: options.optionName,
    }),
  );
  const command = remoteCommandFor(uri, options.readOnly);
  const client = new (ssh2().Client)();
  let hostKeyFailure: Error | undefined;

  const ready = new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      client.end();
      reject(abortReason(options.signal!));
    };
    const onError = (error: Error & { level?: string; code?: string }) => {
      options.signal?.removeEventListener("abort", onAbort);
      client.end();
      if (hostKeyFailure) return reject(hostKeyFailure);
      if (error.level === "client-authentication") return reject(auth.failure(where));
      if (error.level === "client-socket") {
        return reject(
          new ConnectionClosedError(describeNetworkError("ssh", host, port, error), {
            cause: error,
          }),
        );
      }
      reject(
        new ConnectionClosedError(`the SSH connection to ${where} failed: ${error.message}`, {
          cause: error,
        }),
      );
    };
    client.once("error", onError);
    client.once("ready", () => {
      client.off("error", onError);
      options.signal?.removeEventListener("abort", onAbort);
      resolve();
    });
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
  });

  // If connect() throws below, nobody awaits `ready`; a later abort must not go unhandled.
  ready.catch(() => undefined);
  try {
    client.connect({
      host,
      port,
      username,
      readyTimeout: 0, // the connect deadline's signal ends a handshake that takes too long
      algorithms: {
        serverHostKey: preferredHostKeyAlgorithms(knownKeyTypes(policy.entries, host, port)),
      },
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
        try {
          verifyHostKey(policy, host, port, key);
          verify(true);
        } catch (error) {
          hostKeyFailure = error as Error;
          verify(false);
        }
      },
      authHandler: ssh2AuthHandler(auth),
    });
  } catch (error) {
    client.end();
    const message = `cannot start the SSH connection to ${where}: ${(error as Error).message}`;
    throw new ConnectionClosedError(message, { cause: error });
  }
  await ready;
  const description = `the remote command on ${username}@${where}`;
  return openChannel(client, command, description, where, options.signal);
}

/**
 * The session's handler in ssh2's types. Its keys are the ParsedKey objects ssh2's own parseKey
 * made; `false` (nothing left to try) is what ssh2 takes to end authentication, although
 * @types/ssh2 does not list it.
 */
function ssh2AuthHandler(session: SshAuthSession): AuthHandlerMiddleware {
  const toSsh2 = (attempt: SshAuthAttempt | false): AnyAuthMethod => {
    if (attempt === false) return false as unknown as AnyAuthMethod;
    if (attempt.type === "publickey") return { ...attempt, key: attempt.key as ParsedKey };
    return attempt;
  };
  return (left, partial, next) =>
    session.handler(left, partial, (attempt) => next(toSsh2(attempt)));
}

function openChannel(
  client: Client,
  command: string,
  description: string,
  where: string,
  signal: AbortSignal | undefined,
): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    let duplex: Duplex | undefined;
    const onAbort = () => {
      if (duplex) return;
      client.end();
      reject(abortReason(signal!));
    };
    // One listener for the connection's life: before the channel exists it fails the dial,
    // afterwards the stream.
    client.on("error", (failure: Error) => {
      const error = new ConnectionClosedError(
        `the SSH connection to ${where} failed: ${failure.message}`,
        { cause: failure },
      );
      if (!duplex) {
        client.end();
        reject(error);
      } else if (!duplex.destroyed) {
        duplex.destroy(error);
      }
    });
    client.once("close", () => {
      if (!duplex) reject(new ConnectionClosedError(`the SSH connection to ${where} closed`));
      else if (!duplex.destroyed && !duplex.readableEnded) {
        duplex.destroy(new ConnectionClosedError(`the SSH connection to ${where} closed`));
      }
    });
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    client.exec(command, (error, channel: ClientChannel) => {
      signal?.removeEventListener("abort", onAbort);
      if (signal?.aborted) {
        if (!error) channel.destroy();
        return; // onAbort ended the connection and rejected
      }
      if (error) {
        client.end();
        return reject(
          new ConnectionClosedError(`${description} could not be started: ${error.message}`, {
            cause: error,
          }),
        );
      }
      const exited = new Promise<{ code: number | null; signal?: string | null }>((done) => {
        channel.once("exit", (code: number | null, signal?: string) => done({ code, signal }));
        channel.once("close", () => done({ code: null }));
      });
      duplex = processDuplex({
        output: channel,
        input: channel,
        errors: channel.stderr,
        exited,
        close: () => {
          channel.destroy();
          client.end();
        },
        description,
      });
      resolve(duplex);
    });
  });
}
