/**
 * A shell in a real guest over SSH (ssh2), for tests that look inside the test bed's Debian guest.
 * The test process runs inside the test bed's network namespace, which holds the guests' bridge,
 * so it reaches their addresses directly. Host keys are not checked: the guests sit on an isolated
 * network of our own, and cloud-init makes new host keys with every new seed.
 */
import { Client } from "ssh2";

export interface CommandOutput {
  stdout: string;
  stderr: string;
  code: number;
}

export interface GuestLogin {
  host: string;
  user: string;
  /** OpenSSH private key text; it stays in memory. */
  privateKey: string;
}

const RETRY_MS = 3_000;

export class GuestShell {
  private constructor(
    private readonly client: Client,
    readonly host: string,
  ) {}

  /**
   * Logs in, retrying while the guest boots (no route, connection refused, the key not yet
   * installed by cloud-init) until `timeoutMs` has passed; then fails with the last reason.
   */
  static async connect(login: GuestLogin, timeoutMs: number): Promise<GuestShell> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return new GuestShell(await attempt(login), login.host);
      } catch (error) {
        if (Date.now() + RETRY_MS > deadline) {
          throw new Error(
            `no SSH login as ${login.user}@${login.host} within ${timeoutMs / 1000} s: ${(error as Error).message}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  /** Runs a command with /bin/sh; resolves with its output and exit code. */
  run(command: string): Promise<CommandOutput> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (error, channel) => {
        if (error) return reject(error);
        let stdout = "";
        let stderr = "";
        channel.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        channel.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        channel.on("close", (code: number | null) => resolve({ stdout, stderr, code: code ?? -1 }));
      });
    });
  }

  /** Runs a command that must succeed; resolves with its standard output, trimmed. */
  async output(command: string): Promise<string> {
    const { stdout, stderr, code } = await this.run(command);
    if (code !== 0) {
      throw new Error(`\`${command}\` on ${this.host} exited with ${code}: ${stderr.trim()}`);
    }
    return stdout.trim();
  }

  close(): void {
    this.client.end();
  }
}

function attempt(login: GuestLogin): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client
      .once("ready", () => {
        // A connection lost later (the guest restarts) fails the commands on it, not the process.
        client.on("error", () => undefined);
        resolve(client);
      })
      .once("error", (error) => {
        client.end();
        reject(error);
      })
      .connect({
        host: login.host,
        port: 22,
        username: login.user,
        privateKey: login.privateKey,
        readyTimeout: 20_000,
        hostVerifier: () => true,
      });
  });
}
