/**
 * A private libvirtd for tests that must freeze, kill or restart a daemon: the shared test bed
 * daemon is never touched.
 *
 * It runs as the unprivileged system user `vwkeepalive` (created on first use), so libvirtd starts
 * in session mode, and every directory it uses (XDG_RUNTIME_DIR, XDG_CONFIG_HOME, XDG_CACHE_HOME,
 * XDG_DATA_HOME, HOME) lies in a temp dir of its own: no pid file, socket, state or config is
 * shared with the system daemon. Clients reach it as `qemu:///session?socket=<its socket>`; root
 * may connect to it, since a session daemon authenticates unix clients with "none".
 */
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  chownSync,
  existsSync,
  mkdtempSync,
  openSync,
  closeSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const PRIVATE_DAEMON_USER = "vwkeepalive";
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

interface Account {
  uid: number;
  gid: number;
}

/** The daemon's user, created as a system user without home or shell when missing. */
function ensureAccount(name: string): Account {
  const lookup = (): Account | undefined => {
    try {
      const entry = execFileSync("getent", ["passwd", name], { encoding: "utf8" }).split(":");
      return { uid: Number(entry[2]), gid: Number(entry[3]) };
    } catch {
      return undefined;
    }
  };
  const existing = lookup();
  if (existing) return existing;
  if (process.getuid?.() !== 0) {
    throw new Error(`the private libvirtd runs as user ${name}, which is missing; run as root`);
  }
  execFileSync("useradd", [
    "--system",
    "--user-group",
    "--no-create-home",
    "--home-dir",
    "/nonexistent",
    "--shell",
    "/usr/sbin/nologin",
    name,
  ]);
  const created = lookup();
  if (!created) throw new Error(`useradd did not create user ${name}`);
  return created;
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  // A test that crashed must not leave its daemon behind (SIGKILL also ends a stopped process).
  for (const child of running) child.kill("SIGKILL");
});

export class PrivateDaemon {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private starts = 0;

  private constructor(
    readonly dir: string,
    private readonly account: Account,
  ) {}

  /** Starts a fresh daemon in a new temp dir and waits until its socket accepts connections. */
  static async start(): Promise<PrivateDaemon> {
    const account = ensureAccount(PRIVATE_DAEMON_USER);
    const dir = mkdtempSync(join(tmpdir(), "vwtest-daemon-"));
    chownSync(dir, account.uid, account.gid);
    const daemon = new PrivateDaemon(dir, account);
    await daemon.launch();
    return daemon;
  }

  get socketPath(): string {
    return join(this.dir, "run", "libvirt", "libvirt-sock");
  }

  /** The URI to connect with. */
  get uri(): string {
    return `qemu:///session?socket=${this.socketPath}`;
  }

  get pid(): number {
    if (this.child?.pid === undefined) throw new Error("the private libvirtd is not running");
    return this.child.pid;
  }

  /** The daemon's log (stdout and stderr of every start). */
  get log(): string {
    return existsSync(this.logPath) ? readFileSync(this.logPath, "utf8") : "";
  }

  /** SIGSTOP: the daemon keeps its socket but answers nothing, as a hung host would. */
  freeze(): void {
    process.kill(this.pid, "SIGSTOP");
  }

  /** SIGCONT */
  thaw(): void {
    process.kill(this.pid, "SIGCONT");
  }

  /** Ends the daemon: SIGTERM (libvirtd's clean shutdown), or SIGKILL to simulate a crash. */
  async stop(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    if (signal === "SIGTERM") child.kill("SIGCONT"); // a stopped process acts on SIGTERM only once continued
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  /** Stops the daemon and starts it again on the same directories (and socket path). */
  async restart(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    await this.stop(signal);
    await this.launch();
  }

  /** Stops the daemon and removes its directories. */
  async dispose(): Promise<void> {
    await this.stop("SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }

  private get logPath(): string {
    return join(this.dir, "libvirtd.log");
  }

  private async launch(): Promise<void> {
    const log = openSync(this.logPath, "a");
    const child = spawn("libvirtd", [], {
      cwd: this.dir,
      uid: this.account.uid,
      gid: this.account.gid,
      env: {
        PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        HOME: this.dir,
        XDG_RUNTIME_DIR: join(this.dir, "run"),
        XDG_CONFIG_HOME: join(this.dir, "config"),
        XDG_CACHE_HOME: join(this.dir, "cache"),
        XDG_DATA_HOME: join(this.dir, "data"),
      },
      stdio: ["ignore", log, log],
    });
    closeSync(log);
    this.child = child;
    this.starts++;
    running.add(child);
    this.exited = new Promise((resolve) =>
      child.once("exit", () => {
        running.delete(child);
        resolve();
      }),
    );
    await this.waitForSocket(child);
  }

  /** Ready once its socket accepts a connection (after a restart the old socket file remains). */
  private async waitForSocket(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the private libvirtd exited during start-up:\n${this.log}`);
      }
      if (await accepts(this.socketPath)) return;
      if (Date.now() > deadline) {
        throw new Error(
          `the private libvirtd (start ${this.starts}) did not listen in time:\n${this.log}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function accepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ path });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
