/**
 * A private libvirtd of a test's own, the base of private-daemon.ts and sasl-daemon.ts: the
 * shared test bed daemon is never touched.
 *
 * It runs as an unprivileged system user (created on first use), so libvirtd starts in session
 * mode, and every directory it uses (XDG_RUNTIME_DIR, XDG_CONFIG_HOME, XDG_CACHE_HOME,
 * XDG_DATA_HOME, HOME) lies in a temp dir of its own: no pid file, socket, state or config is
 * shared with the system daemon. Clients reach it as `qemu:///session?socket=<its socket>`.
 */
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  chownSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

export interface Account {
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
    ...["--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent"],
    ...["--shell", "/usr/sbin/nologin", name],
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

export abstract class SessionDaemon {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private starts = 0;

  protected constructor(
    /** The daemon's own temp dir: its HOME, XDG directories and logs. */
    readonly dir: string,
    private readonly account: Account,
    /** How errors name the daemon, e.g. "private libvirtd". */
    private readonly label: string,
  ) {}

  /** A new temp dir `<prefix>XXXXXX` owned by `user`, who is created when missing. */
  protected static prepare(user: string, prefix: string): { dir: string; account: Account } {
    const account = ensureAccount(user);
    const dir = mkdtempSync(join(tmpdir(), prefix));
    chownSync(dir, account.uid, account.gid);
    return { dir, account };
  }

  get socketPath(): string {
    return join(this.dir, "run", "libvirt", "libvirt-sock");
  }

  /** The URI to connect with, on the unix socket. */
  get uri(): string {
    return `qemu:///session?socket=${this.socketPath}`;
  }

  get pid(): number {
    if (this.child?.pid === undefined) throw new Error(`the ${this.label} is not running`);
    return this.child.pid;
  }

  /** The daemon's log: its stdout and stderr of every start. */
  get log(): string {
    return readIfExists(join(this.dir, "libvirtd.out"));
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

  /** Stops the daemon and removes its directories. */
  async dispose(): Promise<void> {
    await this.stop("SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Starts libvirtd with `args` (and `env` added to its own) as the daemon's user, and waits until
   * `ready` (default: its unix socket accepts a connection; after a restart the old socket file
   * remains).
   */
  protected async launch(
    args: string[] = [],
    env: Record<string, string> = {},
    ready: () => Promise<boolean> = () => accepts({ path: this.socketPath }),
  ): Promise<void> {
    const out = openSync(join(this.dir, "libvirtd.out"), "a");
    const child = spawn("libvirtd", args, {
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
        ...env,
      },
      stdio: ["ignore", out, out],
    });
    closeSync(out);
    this.child = child;
    this.starts++;
    running.add(child);
    this.exited = new Promise((resolve) =>
      child.once("exit", () => {
        running.delete(child);
        resolve();
      }),
    );
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await ready())) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the ${this.label} exited during start-up:\n${this.log}`);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `the ${this.label} (start ${this.starts}) did not listen in time:\n${this.log}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

export function readIfExists(file: string): string {
  return existsSync(file) ? readFileSync(file, "utf8") : "";
}

/** Whether a connection to the unix socket or TCP port is accepted. */
export function accepts(
  target: { path: string } | { host: string; port: number },
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(target as never);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
