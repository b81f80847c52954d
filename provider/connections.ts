/**
 * One shared connection per host for the whole plugin process, opened on first use and opened
 * again when it died (keepalive, daemon restart). Concurrent first uses share one attempt.
 *
 * A host's settings become the client's ConnectOptions here. Credentials are asked, in order, from:
 *
 *   1. the stack config            virtwire:username / virtwire:password (SASL), the URI's user name,
 *                                  virtwire:sshPassword (SSH password and keyboard-interactive)
 *   2. the environment             VIRTWIRE_USERNAME / VIRTWIRE_PASSWORD (SASL only)
 *   3. libvirt's auth.conf         virtwire:authFile, else libvirt's search ($LIBVIRT_AUTH_FILE,
 *                                  authfile= in the URI, ~/.config/libvirt/auth.conf, /etc/libvirt/auth.conf)
 *
 * A source that cannot answer passes to the next; one that answers with an empty value fails the
 * connection (rpc/client/auth/credentials.ts). A SASL password is never offered to an SSH server,
 * nor an SSH password to libvirt's SASL.
 */
import {
  AuthError,
  Libvirt,
  SshPrivateKey,
  authConfCredentials,
  environmentCredentials,
  findAuthConf,
  isSshTransport,
  parseLibvirtUri,
  readSshPrivateKey,
  staticCredentials,
} from "../rpc/internal";
import type { ConnectOptions, CredentialSource, LibvirtUri, OptionPath } from "../rpc/internal";
import {
  ConfigError,
  HostKey,
  HostSettings,
  deadline,
  numberSetting,
  setCommand,
  settingName,
} from "./config";

export class ConnectionCache {
  private readonly open = new Map<string, Promise<Libvirt>>();

  async get(host: HostSettings): Promise<Libvirt> {
    const key = host.name;
    const existing = this.open.get(key);
    if (existing) {
      const lv = await existing.catch(() => undefined);
      if (lv && !lv.closed) return lv;
      if (this.open.get(key) !== existing) return this.get(host);
    }
    const attempt = (async () => {
      const { uri, options } = connectionFor(host);
      return Libvirt.connect(uri, options);
    })();
    this.open.set(key, attempt);
    attempt.catch(() => {
      if (this.open.get(key) === attempt) this.open.delete(key);
    });
    return attempt;
  }

  async closeAll(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(
      all.map((attempt) => attempt.then((lv) => lv.close()).catch(() => undefined)),
    );
  }
}

/** The client's keepalive from a host's settings: an interval of 0 turns it off, as in libvirt. */
function keepaliveFor(host: HostSettings): ConnectOptions["keepalive"] {
  const interval = numberSetting(host, "keepaliveInterval");
  return interval === 0 ? false : { interval, count: numberSetting(host, "keepaliveCount") };
}

/**
 * The parsed URI and ConnectOptions for a host, decided here once: the client gets the parsed URI,
 * the key read already and the known_hosts file as options, and names its options in messages by
 * this host's stack config keys. Throws a ConfigError for settings that cannot apply, before
 * anything is dialed (also at preview).
 */
export function connectionFor(
  host: HostSettings,
  env: NodeJS.ProcessEnv = process.env,
): { uri: LibvirtUri; options: ConnectOptions } {
  const optionName = stackConfigNames(host);
  const parsed = parseLibvirtUri(host.uri, optionName);
  const ssh = isSshTransport(parsed.transport);
  const name = (key: HostKey) => settingName(host.name, key);
  const misplaced = (keys: HostKey[], transport: string) => {
    const set = keys.filter((key) => host[key as keyof HostSettings] !== undefined);
    if (set.length > 0) {
      throw new ConfigError(
        `${set.map(name).join(", ")} ${set.length > 1 ? "are" : "is"} set, but ${name("uri")} uses the ${parsed.transport} transport, not ${transport}: remove ${set.length > 1 ? "them" : "it"} or fix the URI`,
      );
    }
  };
  if (!ssh) {
    misplaced(
      [
        "sshPrivateKey",
        "sshPrivateKeyPassphrase",
        "sshPassword",
        "sshHostKeyFingerprint",
        "sshKnownHosts",
      ],
      "ssh",
    );
  }
  if (parsed.transport !== "tls") misplaced(["tlsCaCert", "tlsClientCert", "tlsClientKey"], "tls");

  const options: ConnectOptions = {
    credentials: credentialSources(host, parsed, env),
    callTimeoutMs: deadline(host, "callTimeout") * 1000,
    longCallTimeoutMs: deadline(host, "longCallTimeout") * 1000,
    streamIdleTimeoutMs: deadline(host, "streamIdleTimeout") * 1000,
    keepalive: keepaliveFor(host),
    optionName,
  };
  if (ssh) {
    const privateKey = readPrivateKey(host);
    const knownHosts = knownHostsFile(host, parsed);
    options.ssh = {
      ...(privateKey !== undefined && { privateKey }),
      ...(host.sshPrivateKeyPassphrase !== undefined && {
        passphrase: host.sshPrivateKeyPassphrase,
      }),
      ...(host.sshHostKeyFingerprint !== undefined && {
        hostKeyFingerprint: host.sshHostKeyFingerprint,
      }),
      ...(knownHosts !== undefined && { knownHosts }),
    };
  }
  if (parsed.transport === "tls") {
    options.tls = {
      ...(host.tlsCaCert !== undefined && { ca: host.tlsCaCert }),
      ...(host.tlsClientCert !== undefined && { cert: host.tlsClientCert }),
      ...(host.tlsClientKey !== undefined && { key: host.tlsClientKey }),
    };
  }
  return { uri: parsed, options };
}

/** virtwire:sshKnownHosts is the URI's `known_hosts=`; both at once must agree. */
function knownHostsFile(host: HostSettings, parsed: LibvirtUri): string | undefined {
  const file = host.sshKnownHosts;
  const inUri = parsed.params.known_hosts;
  if (file !== undefined && inUri !== undefined && inUri !== file) {
    throw new ConfigError(
      `${settingName(host.name, "sshKnownHosts")} and known_hosts= in ${settingName(host.name, "uri")} name different files: keep one`,
    );
  }
  return file;
}

/** The key, read once; one that cannot be read fails here, in the words of the stack config. */
function readPrivateKey(host: HostSettings): SshPrivateKey | undefined {
  if (host.sshPrivateKey === undefined) return undefined;
  const key = readSshPrivateKey(host.sshPrivateKey, host.sshPrivateKeyPassphrase);
  if (key instanceof SshPrivateKey) return key;
  const hint = key.passphrase
    ? host.sshPrivateKeyPassphrase === undefined
      ? `; it is encrypted: set ${setCommand(host.name, "sshPrivateKeyPassphrase")}`
      : `; check ${settingName(host.name, "sshPrivateKeyPassphrase")}`
    : "";
  throw new ConfigError(
    `${settingName(host.name, "sshPrivateKey")} cannot be used: ${key.problem}${hint}`,
  );
}

/** Stack config first, then the environment, then libvirt's auth.conf. */
function credentialSources(
  host: HostSettings,
  parsed: LibvirtUri,
  env: NodeJS.ProcessEnv,
): CredentialSource[] {
  const name = (key: HostKey) => settingName(host.name, key);
  const sources: CredentialSource[] = [];
  // Listed even when unset, so that a failure's "asked:" names the keys to set.
  sources.push(
    only(
      "libvirt",
      staticCredentials(`stack config (${name("username")}, ${name("password")})`, {
        username: host.username,
        password: host.password,
      }),
    ),
  );
  if (parsed.user !== undefined) {
    sources.push(
      only(
        "libvirt",
        staticCredentials(`the user name in ${name("uri")}`, { username: parsed.user }),
      ),
    );
  }
  sources.push(
    only(
      "ssh",
      staticCredentials(`stack config (${name("sshPassword")})`, { password: host.sshPassword }),
    ),
  );
  sources.push(only("libvirt", environmentCredentials(env)));
  const authFile = host.authFile ?? findAuthConf(parsed.params.authfile, env);
  if (authFile !== undefined) {
    try {
      sources.push(authConfCredentials(authFile));
    } catch (error) {
      const key = host.authFile !== undefined ? name("authFile") : "auth.conf";
      const reason = error instanceof AuthError ? error.message : readFailure(error);
      throw new ConfigError(`${key}: cannot read ${authFile}: ${reason}`);
    }
  }
  return sources;
}

function readFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOENT"
    ? "no such file"
    : code === "EACCES"
      ? "permission denied"
      : String(code ?? "unreadable");
}

/** A source consulted only for one service: SASL (`libvirt`) or `ssh`. */
function only(service: "libvirt" | "ssh", source: CredentialSource): CredentialSource {
  return {
    description: source.description,
    collect: (requests, context) =>
      context.service === service
        ? source.collect(requests, context)
        : Promise.resolve(requests.map(() => undefined)),
  };
}

/**
 * The client's messages name its options; a provider user sets stack config keys instead, so
 * they are named by the keys of this host. Credentials for an SSH login come from
 * virtwire:sshPassword, else auth.conf; for SASL from virtwire:username / virtwire:password.
 */
function stackConfigNames(host: HostSettings): (option: OptionPath) => string {
  const name = (key: HostKey) => settingName(host.name, key);
  const names: Record<OptionPath, string> = {
    credentials: `${name("username")} / ${name("password")}`,
    "credentials.ssh": "an [auth-ssh-<host>] entry in auth.conf",
    "ssh.privateKey": name("sshPrivateKey"),
    "ssh.passphrase": name("sshPrivateKeyPassphrase"),
    "ssh.password": name("sshPassword"),
    "ssh.hostKeyFingerprint": name("sshHostKeyFingerprint"),
    tls: `${name("tlsClientCert")} / ${name("tlsClientKey")}`,
    "tls.ca": name("tlsCaCert"),
    "tls.cert": name("tlsClientCert"),
    "tls.key": name("tlsClientKey"),
  };
  return (option) => names[option];
}
