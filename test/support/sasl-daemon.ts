/**
 * A private libvirtd that demands SASL, for the authentication tests; the shared test bed daemon
 * (auth none) is never touched.
 *
 * A session daemon (session-daemon.ts) like private-daemon.ts, run as the unprivileged system user
 * `vwsasl` with every directory in a temp dir of its own. Its config
 * (`libvirtd -f`) sets `auth_unix_rw = "sasl"`, and with `listen` also a TLS listener
 * (`auth_tls = "sasl"`, the test bed's server certificate from /run/virtwire-testbed/pki) and a
 * plain TCP one (`auth_tcp = "sasl"`) on free ports of 127.0.0.1 — inside the network namespace
 * the tests run in.
 *
 * Cyrus SASL reads a service's config from `<dir>/libvirt.conf` for each dir in
 * `$SASL_CONF_PATH` (default /etc/sasl2), and honours that variable when the process is not
 * setuid (lib/common.c `_sasl_getconfpath`). libvirtd calls `sasl_server_init(NULL, "libvirt")`
 * without a config-path callback, so each private daemon gets its own
 * `SASL_CONF_PATH=<dir>/sasl2` holding `mech_list` and a `sasldb_path` of its own: nothing in
 * /etc/sasl2 is read or written. The user and its password are made at start with
 * `saslpasswd2 -p -c -a libvirt -f <dir>/sasl2/passwd.db`; the password is random, lives in
 * memory and in that 0640 database only, and is removed with the temp dir.
 *
 * The daemon logs its RPC dispatch at debug level (`log_filters = "1:remote 1:rpc 3:*"`), so
 * tests can prove from the server side which SASL steps arrived.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, copyFileSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { Server, Socket, createConnection, createServer } from "node:net";
import { join } from "node:path";
import { PacketDecoder } from "../../rpc/protocol/packet";
import { endTogether, listenOnLoopback } from "./loopback";
import { Account, SessionDaemon, accepts, readIfExists } from "./session-daemon";
import { TLS } from "./tls";

export const SASL_DAEMON_USER = "vwsasl";

export interface SaslDaemonOptions {
  /** The `mech_list` of the daemon's SASL config (default `["scram-sha-256"]`). */
  mechanisms?: string[];
  /** Also listen on TLS and plain TCP (`auth_tls`, `auth_tcp` = "sasl"). */
  listen?: boolean;
}

export class SaslDaemon extends SessionDaemon {
  private constructor(
    dir: string,
    account: Account,
    /** The SASL user made for this daemon, and its generated password. */
    readonly username: string,
    readonly password: string,
    readonly mechanisms: string[],
    readonly ports: { tls: number; tcp: number } | undefined,
  ) {
    super(dir, account, "SASL libvirtd");
  }

  static async start(options: SaslDaemonOptions = {}): Promise<SaslDaemon> {
    const { dir, account } = SessionDaemon.prepare(SASL_DAEMON_USER, "vwtest-sasl-");
    const mechanisms = options.mechanisms ?? ["scram-sha-256"];
    const ports = options.listen ? { tls: await freePort(), tcp: await freePort() } : undefined;
    const daemon = new SaslDaemon(
      dir,
      account,
      `vwtest-${randomBytes(3).toString("hex")}`,
      randomBytes(18).toString("base64url"),
      mechanisms,
      ports,
    );
    daemon.writeFiles();
    chownTree(dir, account);
    await daemon.launchSasl();
    return daemon;
  }

  /** The unix socket (secure: SCRAM and PLAIN allowed). */
  get unixUri(): string {
    return this.uri;
  }

  /** TLS with the test bed's client certificate (pkipath=). */
  get tlsUri(): string {
    return `qemu+tls://127.0.0.1:${this.listening.tls}/session?pkipath=${TLS.pki}`;
  }

  /** Plain TCP: libvirtd demands a SASL security layer (SSF ≥ 56) there. */
  get tcpUri(): string {
    return `qemu+tcp://127.0.0.1:${this.listening.tcp}/session`;
  }

  /** The daemon's log: its debug lines for RPC dispatch and SASL, and its stderr. */
  override get log(): string {
    return readIfExists(join(this.dir, "libvirtd.log")) + super.log;
  }

  /** How many AUTH_SASL_START calls the daemon dispatched so far (from its log). */
  saslStarts(): number {
    return this.log.split("\n").filter((line) => line.includes("remoteDispatchAuthSaslStart:"))
      .length;
  }

  /** An auth.conf holding this daemon's user and password for every host, in a 0600 file. */
  writeAuthConf(): string {
    const file = join(this.dir, "client-auth.conf");
    writeFileSync(
      file,
      `[credentials-vwtest]\nauthname=${this.username}\npassword=${this.password}\n\n[auth-libvirt-default]\ncredentials=vwtest\n`,
      { mode: 0o600 },
    );
    return file;
  }

  private get listening(): { tls: number; tcp: number } {
    if (!this.ports) throw new Error("this SASL daemon was started without listen: true");
    return this.ports;
  }

  private writeFiles(): void {
    const sasl = join(this.dir, "sasl2");
    const pki = join(this.dir, "pki");
    mkdirSync(sasl);
    mkdirSync(pki, { mode: 0o700 });
    for (const sub of ["run", "config", "cache", "data"]) mkdirSync(join(this.dir, sub));
    writeFileSync(
      join(sasl, "libvirt.conf"),
      [
        `mech_list: ${this.mechanisms.join(" ")}`,
        "pwcheck_method: auxprop",
        "auxprop_plugin: sasldb",
        `sasldb_path: ${join(sasl, "passwd.db")}`,
        "",
      ].join("\n"),
    );
    execFileSync(
      "saslpasswd2",
      ["-p", "-c", "-a", "libvirt", "-f", join(sasl, "passwd.db"), this.username],
      { input: this.password, stdio: ["pipe", "ignore", "pipe"] },
    );
    const lines = [
      'auth_unix_rw = "sasl"',
      'auth_unix_ro = "sasl"',
      `log_outputs = "1:file:${join(this.dir, "libvirtd.log")}"`,
      'log_filters = "1:remote 1:rpc 3:*"',
    ];
    if (this.ports) {
      for (const name of ["cacert", "servercert", "serverkey"]) {
        copyFileSync(join(TLS.pki, `${name}.pem`), join(pki, `${name}.pem`));
      }
      lines.push(
        'listen_addr = "127.0.0.1"',
        "listen_tls = 1",
        `tls_port = "${this.ports.tls}"`,
        'auth_tls = "sasl"',
        "listen_tcp = 1",
        `tcp_port = "${this.ports.tcp}"`,
        'auth_tcp = "sasl"',
        `ca_file = "${join(pki, "cacert.pem")}"`,
        `cert_file = "${join(pki, "servercert.pem")}"`,
        `key_file = "${join(pki, "serverkey.pem")}"`,
      );
    }
    writeFileSync(join(this.dir, "libvirtd.conf"), `${lines.join("\n")}\n`);
  }

  private async launchSasl(): Promise<void> {
    const args = ["-f", join(this.dir, "libvirtd.conf"), ...(this.ports ? ["--listen"] : [])];
    const ports = this.ports;
    await this.launch(
      args,
      { SASL_CONF_PATH: join(this.dir, "sasl2") },
      async () =>
        (await accepts({ path: this.socketPath })) &&
        (!ports ||
          ((await accepts({ host: "127.0.0.1", port: ports.tls })) &&
            (await accepts({ host: "127.0.0.1", port: ports.tcp })))),
    );
  }
}

function chownTree(path: string, account: Account): void {
  chownSync(path, account.uid, account.gid);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) chownTree(full, account);
    else chownSync(full, account.uid, account.gid);
  }
}

async function freePort(): Promise<number> {
  const { port, close } = await listenOnLoopback(createServer());
  await close();
  return port;
}

/** The procedure numbers a client sent, in order, decoded from the bytes it wrote. */
export class ProcedureSpy {
  readonly procedures: number[] = [];
  private readonly decoder = new PacketDecoder();

  record(chunk: Buffer): void {
    for (const packet of this.decoder.push(Buffer.from(chunk))) {
      this.procedures.push(packet.header.procedure);
    }
  }
}

/** A unix socket connection whose outgoing RPC calls are recorded (for `options.transport`). */
export function spiedUnixSocket(path: string): Promise<{ socket: Socket; spy: ProcedureSpy }> {
  const spy = new ProcedureSpy();
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path });
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((chunk: unknown, ...rest: unknown[]) => {
      spy.record(Buffer.from(chunk as Uint8Array));
      return write(chunk, ...rest);
    }) as typeof socket.write;
    socket.once("connect", () => resolve({ socket, spy }));
    socket.once("error", reject);
  });
}

/**
 * A plain TCP listener on 127.0.0.1 that relays to a daemon's unix socket: the client sees an
 * unencrypted channel while the daemon, seeing a unix client, offers what it allows there (such
 * as PLAIN). Records the procedures clients sent.
 */
export async function startTcpRelay(
  socketPath: string,
): Promise<{ port: number; spy: ProcedureSpy; close(): Promise<void> }> {
  const spy = new ProcedureSpy();
  const server: Server = createServer((client) => {
    const daemon = createConnection({ path: socketPath });
    client.on("data", (chunk: Buffer) => spy.record(chunk));
    client.pipe(daemon).pipe(client);
    endTogether(client, daemon);
  });
  return { ...(await listenOnLoopback(server)), spy };
}
