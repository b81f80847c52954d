/**
 * An sshd of a test's own, beside the test bed's (ssh.ts), so that a test can change its host key
 * without touching the shared one: the same users and AuthorizedKeysCommand (keys a test installs
 * with authorizeKey), one host key made at start and made anew by `rotateHostKey()`, on a free
 * port of 127.0.0.1 in the namespace. Logins reach the test bed's daemon as through the shared sshd.
 */
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fingerprint } from "../../rpc/transport/known-hosts";
import { accepts } from "./session-daemon";
import { SSH } from "./ssh";

export class PrivateSshd {
  private child: ChildProcess | undefined;
  private log = "";

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<PrivateSshd> {
    const sshd = new PrivateSshd(await freePort(), mkdtempSync(join(tmpdir(), "vwtest-sshd-")));
    await sshd.rotateHostKey();
    return sshd;
  }

  /** `SHA256:…` of the host key it presents now. */
  get fingerprint(): string {
    const [, base64] = readFileSync(join(this.dir, "host_key.pub"), "utf8").trim().split(/\s+/);
    return fingerprint(Buffer.from(base64!, "base64"));
  }

  /** A new host key, as after a reinstall: the sshd restarts with it on the same port. */
  async rotateHostKey(): Promise<void> {
    await this.stop();
    const key = join(this.dir, "host_key");
    rmSync(key, { force: true });
    rmSync(`${key}.pub`, { force: true });
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "vwtest", "-f", key]);
    const options = [
      `ListenAddress=127.0.0.1:${this.port}`,
      `HostKey=${key}`,
      "PidFile=none",
      "AuthorizedKeysFile=none",
      `AuthorizedKeysCommand=${join(SSH.dir, "authorized-keys")} %u`,
      "AuthorizedKeysCommandUser=nobody",
      `AllowUsers=${SSH.user}`,
      "PasswordAuthentication=no",
      "KbdInteractiveAuthentication=no",
      "UsePAM=no",
      "AllowTcpForwarding=no",
      "AllowStreamLocalForwarding=yes",
    ];
    const child = spawn(
      "/usr/sbin/sshd",
      ["-D", "-e", "-f", "/dev/null", ...options.flatMap((o) => ["-o", o])],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    child.stderr!.on("data", (chunk: Buffer) => (this.log += chunk.toString()));
    this.child = child;
    const deadline = Date.now() + 10_000;
    while (!(await accepts({ host: "127.0.0.1", port: this.port }))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`the private sshd did not start:\n${this.log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }

  async remove(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
