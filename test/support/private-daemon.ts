/**
 * A private libvirtd for tests that must freeze, kill or restart a daemon: the shared test bed
 * daemon is never touched.
 *
 * A session daemon (session-daemon.ts) run as the unprivileged system user `vwkeepalive`, with
 * all its directories in a temp dir of its own. Clients reach it as
 * `qemu:///session?socket=<its socket>`; root may connect to it, since a session daemon
 * authenticates unix clients with "none".
 */
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

  /** Stops the daemon and starts it again on the same directories (and socket path). */
  async restart(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    await this.stop(signal);
    await this.launch();
  }
}
