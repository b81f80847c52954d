/**
 * The dynamic-provider plugin's process, started as the engine starts it (`provider_plugin.go`
 * NewProvider, `plugin.go` newPlugin): `<programDir>/node_modules/@pulumi/pulumi/
 * pulumi-resource-pulumi-nodejs <engine address>` in the program directory, with
 * `PULUMI_NODEJS_PROJECT`/`PULUMI_PROJECT` and `PULUMI_CONFIG={}` (that variable only carries the
 * `pulumi-nodejs` namespace). Its first stdout line is the gRPC port. Everything it prints
 * afterwards is kept: the engine shows those lines to users and saves them in the update log.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";

/** Required by the plugin's command line, never dialled. */
export const FAKE_ENGINE_ADDRESS = "127.0.0.1:1";

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) killGroup(child);
});

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class PluginProcess {
  private stdoutText = "";
  private stderrText = "";
  private gRPCPort = 0;

  private constructor(
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
  ) {
    child.stdout?.on("data", (chunk: Buffer) => (this.stdoutText += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (this.stderrText += chunk.toString()));
  }

  /**
   * Starts the plugin; `env` is added to this process's environment without its PULUMI_*
   * variables. Rejects with what the plugin printed if it exits before printing its port.
   */
  static async start(programDir: string, env: Record<string, string>): Promise<PluginProcess> {
    const fullEnv: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (value !== undefined && !key.startsWith("PULUMI_")) fullEnv[key] = value;
    }
    const script = path.join(
      programDir,
      "node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs",
    );
    const child = spawn(script, [FAKE_ENGINE_ADDRESS], {
      cwd: programDir,
      env: { ...fullEnv, ...env },
      detached: true, // its own process group: the script runs node as a grandchild
      stdio: ["ignore", "pipe", "pipe"],
    });
    running.add(child);
    const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
    void exited.then(() => running.delete(child));
    const plugin = new PluginProcess(child, exited);
    await plugin.readPort();
    return plugin;
  }

  /** Takes the port from the first stdout line. */
  private async readPort(): Promise<void> {
    const newline = await new Promise<number>((resolve) => {
      const onData = () => {
        if (this.stdoutText.includes("\n")) finish(this.stdoutText.indexOf("\n"));
      };
      const onClose = () => finish(-1);
      const finish = (index: number) => {
        this.child.stdout?.off("data", onData);
        this.child.off("close", onClose);
        resolve(index);
      };
      this.child.stdout?.on("data", onData);
      this.child.once("close", onClose);
    });
    const port = newline < 0 ? NaN : Number(this.stdoutText.slice(0, newline).trim());
    if (!Number.isInteger(port) || port <= 0) {
      killGroup(this.child);
      throw new Error(`the plugin did not print its port:\n${this.output}`);
    }
    this.gRPCPort = port;
    this.stdoutText = this.stdoutText.slice(newline + 1);
  }

  get port(): number {
    return this.gRPCPort;
  }

  /** What the plugin printed on stdout after the port line. */
  get stdout(): string {
    return this.stdoutText;
  }

  get stderr(): string {
    return this.stderrText;
  }

  /**
   * What the plugin prints from now on, stdout then stderr: slicing `output` instead would cut
   * into stderr once stdout grows past an earlier mark.
   */
  mark(): () => string {
    const [out, err] = [this.stdoutText.length, this.stderrText.length];
    return () => this.stdoutText.slice(out) + this.stderrText.slice(err);
  }

  /** Everything users would see from the plugin. */
  get output(): string {
    return this.stdoutText + this.stderrText;
  }

  /**
   * Resolves when the output matches, e.g. a line printed during the last call: stdout travels
   * beside the gRPC answer, so it can arrive after it.
   */
  async waitForOutput(pattern: string | RegExp, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const matches = () =>
      typeof pattern === "string" ? this.output.includes(pattern) : pattern.test(this.output);
    while (!matches()) {
      if (Date.now() > deadline) throw new Error(`no plugin output matched ${pattern}`);
      await sleep(20);
    }
  }

  /** Resolves once nothing was printed for `ms`: call it before asserting what is absent. */
  async quiet(ms = 200): Promise<void> {
    let seen = -1;
    while (seen !== this.output.length) {
      seen = this.output.length;
      await sleep(ms);
    }
  }

  /** Kills the process group, as the engine does at the end of an operation. */
  async kill(): Promise<void> {
    killGroup(this.child);
    await this.exited;
  }
}
