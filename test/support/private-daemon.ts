/**
 * A private libvirtd for tests that must freeze, kill or restart a daemon: the shared test bed
 * daemon is never touched.
 *
 * A session daemon (session-daemon.ts) run as the unprivileged system user `vwkeepalive`, with
 * all its directories in a temp dir of its own. Clients reach it as
 * `qemu:///session?socket=<its socket>`; root may connect to it, since a session daemon
 * authenticates unix clients with "none".
 */
import { execFileSync } from "node:child_process";
import { SessionDaemon } from "./session-daemon";

export const PRIVATE_DAEMON_USER = "vwkeepalive";

export class PrivateDaemon extends SessionDaemon {
  /** Starts a fresh daemon in a new temp dir and waits until its socket accepts connections. */
  static async start(): Promise<PrivateDaemon> {
    const { dir, account } = SessionDaemon.prepare(PRIVATE_DAEMON_USER, "vwtest-daemon-");
    const daemon = new PrivateDaemon(dir, account, "private libvirtd");
    await daemon.launch();
    return daemon;
  }

  /** SIGSTOP: the daemon keeps its socket but answers nothing, as a hung host would. */
  freeze(): void {
    process.kill(this.pid, "SIGSTOP");
  }

  /** SIGCONT */
  thaw(): void {
    process.kill(this.pid, "SIGCONT");
  }

  /**
   * The QEMUs this daemon launched (guests, or also its capability probes): their command lines
   * name paths in the daemon's directory. They outlive a daemon that is killed.
   */
  qemuPids(which: "all" | "guests" = "all"): number[] {
    try {
      const guest = which === "guests" ? " -name guest=" : " ";
      const pattern = `^/usr/bin/qemu-system-\\S+${guest}.*${this.dir}/`;
      const out = execFileSync("pgrep", ["-u", PRIVATE_DAEMON_USER, "-f", pattern], {
        encoding: "utf8",
      });
      return out.split("\n").filter(Boolean).map(Number);
    } catch {
      return []; // pgrep exits 1 when nothing matches
    }
  }

  /** Kills the daemon and the QEMUs it launched (by pid), and removes its directories. */
  override async dispose(): Promise<void> {
    await this.stop("SIGKILL");
    for (const pid of this.qemuPids()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
    await super.dispose();
  }

  /** Stops the daemon and starts it again on the same directories (and socket path). */
  async restart(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    await this.stop(signal);
    await this.launch();
  }
}
