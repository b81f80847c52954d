/**
 * A Pulumi project in a scratch directory, driven through the real CLI (scripts/pulumi-cli.sh:
 * `pulumi` with our language host and dynamic-provider shim), offline: file backend and
 * PULUMI_HOME inside the directory, passphrase secrets, no update check, no plugin downloads.
 *
 * The directory gets the example's sources, the repository's node_modules (hard links) and virtwire
 * as a packed tarball, exactly as test/support/program-dir.ts prepares programs for the plugin
 * tests, so `__provider` is the `require("virtwire/provider")` stub.
 */
import { ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT, packVirtwire, prepareProgramDir } from "../support/program-dir";

const run = promisify(execFile);

/** Longest a single CLI command may take by default (an `up` boots guests). */
const COMMAND_TIMEOUT_MS = 300_000;

export interface ProjectOptions {
  /** Longest a single CLI command may take (default 5 minutes). */
  commandTimeoutMs?: number;
  /** More environment for every command (e.g. a CI's job variables); `""` hides a variable. */
  env?: Record<string, string>;
  /**
   * Puts the provider plugin `pulumi-resource-virtwire` of the project's virtwire package (or of
   * the project in the directory given) on PATH, first, as `npm install -g virtwire` or an
   * unpacked plugin archive would.
   */
  plugin?: true | string;
}

/**
 * A launcher named as the CLI looks for the plugin, in `dir`/.plugin-bin: the package's bin entry
 * run with node (a packed package extracted by a test has no executable bits).
 */
function pluginLauncher(dir: string, packages: string): string {
  const bin = path.join(dir, ".plugin-bin");
  fs.mkdirSync(bin, { recursive: true });
  const main = path.join(packages, "node_modules/virtwire/dist/provider/plugin/main.js");
  const launcher = path.join(bin, "pulumi-resource-virtwire");
  fs.writeFileSync(launcher, `#!/bin/sh\nexec node '${main}' "$@"\n`, { mode: 0o755 });
  return bin;
}

/** The bin directory of the CLI: $VIRTWIRE_PULUMI_BIN, else what scripts/pulumi-cli.sh provides. */
async function pulumiBin(): Promise<string> {
  if (process.env.VIRTWIRE_PULUMI_BIN) return process.env.VIRTWIRE_PULUMI_BIN;
  const script = path.join(REPO_ROOT, "scripts/pulumi-cli.sh");
  const { stdout } = await run("bash", [script, "bin"], { env: process.env });
  return stdout.trim();
}

export interface CommandResult {
  stdout: string;
  stderr: string;
  /** Wall-clock seconds. */
  seconds: number;
}

export class PulumiProject {
  private constructor(
    /** The project directory (Pulumi.yaml, the program, node_modules). */
    readonly dir: string,
    /** What every command runs with: PATH with the CLI, backend, passphrase, PULUMI_HOME. */
    readonly env: NodeJS.ProcessEnv,
    private readonly commandTimeoutMs: number,
  ) {}

  /**
   * Copies the example's sources (everything but node_modules and stack files) into a new scratch
   * directory with packages installed, and creates `stack` in a file backend inside it.
   */
  static async create(
    example: string,
    stack: string,
    options: ProjectOptions = {},
  ): Promise<PulumiProject> {
    const programDir = await prepareProgramDir([await packVirtwire()]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vwtest-e2e-${path.basename(example)}-`));
    for (const entry of fs.readdirSync(example)) {
      if (entry === "node_modules" || /^Pulumi\..+\.yaml$/.test(entry)) continue;
      fs.cpSync(path.join(example, entry), path.join(dir, entry), { recursive: true });
    }
    await run("cp", ["-al", path.join(programDir.dir, "node_modules"), dir]);
    return PulumiProject.inDirectory(dir, stack, options);
  }

  /**
   * A project whose sources and packages are already in `dir` (e.g. installed with npm): creates
   * `stack` in a file backend inside it. remove() deletes `dir`.
   */
  static async inDirectory(
    dir: string,
    stack: string,
    options: ProjectOptions = {},
  ): Promise<PulumiProject> {
    fs.mkdirSync(path.join(dir, ".state"));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: `${await pulumiBin()}:${process.env.PATH}`,
      PULUMI_HOME: path.join(dir, ".pulumi-home"),
      PULUMI_BACKEND_URL: `file://${path.join(dir, ".state")}`,
      PULUMI_CONFIG_PASSPHRASE: randomBytes(12).toString("hex"),
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_SKIP_CONFIRMATIONS: "true",
      NO_COLOR: "1",
      ...options.env,
    };
    if (options.plugin) {
      const packages = options.plugin === true ? dir : options.plugin;
      env.PATH = `${pluginLauncher(dir, packages)}:${env.PATH}`;
    }
    const project = new PulumiProject(dir, env, options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS);
    await project.pulumi("stack", "init", stack);
    return project;
  }

  /**
   * Runs `pulumi <args>` in the project; fails with the CLI's output when it exits non-zero, and
   * when a Node.js process under it printed a warning.
   */
  async pulumi(...args: string[]): Promise<CommandResult> {
    const started = Date.now();
    const result = await run("pulumi", ["--non-interactive", ...args], {
      cwd: this.dir,
      env: this.env,
      timeout: this.commandTimeoutMs,
      maxBuffer: 64 << 20,
    }).catch((err: { stdout?: string; stderr?: string }) => {
      const { stdout, stderr } = err;
      throw new Error(
        `pulumi ${args.join(" ")} failed:\n${stdout ?? ""}\n${stderr ?? String(err)}`,
      );
    });
    const { stdout, stderr } = result;
    const warning = nodeWarning(stdout) ?? nodeWarning(stderr);
    if (warning) throw new Error(`pulumi ${args.join(" ")} printed a Node.js warning: ${warning}`);
    return { stdout, stderr, seconds: (Date.now() - started) / 1000 };
  }

  /** Starts `pulumi <args>` in the project without waiting for it, e.g. to kill it midway. */
  spawn(...args: string[]): ChildProcess {
    return spawn("pulumi", ["--non-interactive", ...args], {
      cwd: this.dir,
      env: this.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
  }

  async setConfig(key: string, value: string, options: { secret?: boolean; path?: boolean } = {}) {
    const flags = [...(options.secret ? ["--secret"] : []), ...(options.path ? ["--path"] : [])];
    await this.pulumi("config", "set", ...flags, key, "--", value);
  }

  /** The stack's outputs. */
  async outputs(): Promise<Record<string, unknown>> {
    return JSON.parse((await this.pulumi("stack", "output", "--json")).stdout);
  }

  /** The steps `pulumi preview` plans, other than "same", as `op name` (e.g. `update vm2`). */
  async plannedChanges(): Promise<string[]> {
    const preview = JSON.parse((await this.pulumi("preview", "--json")).stdout) as {
      steps?: { op: string; urn: string }[];
    };
    return (preview.steps ?? [])
      .filter((step) => step.op !== "same")
      .map((step) => `${step.op} ${step.urn.split("::").pop()}`)
      .sort();
  }

  /** `pulumi stack export`: the state file's text. */
  async exportState(): Promise<string> {
    return (await this.pulumi("stack", "export")).stdout;
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A warning Node.js printed in the program or the provider (`(node:1234) MaxListenersExceeded
 * Warning: …`, `(node:1234) [DEP0005] DeprecationWarning: …`): the CLI shows it to the user on the
 * stack's row.
 */
function nodeWarning(output: string): string | undefined {
  // The whole line: the CLI prints it on the stack's row, with the progress of that moment.
  return /^.*\(node:\d+\) (\[\w+\] )?\w*Warning: .*$/m.exec(output)?.[0];
}
