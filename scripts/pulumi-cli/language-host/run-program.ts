/**
 * How a Pulumi program is run: the SDK's own runner, `@pulumi/pulumi/cmd/run` from the program's
 * node_modules, in a child `node`, with the flags and environment it reads (its `usage()` and
 * `runtime/config.js`):
 *
 *   node [nodeargs] <program's @pulumi/pulumi>/cmd/run
 *        --monitor=<addr> --engine=<addr> --project=<p> --stack=<s> --organization=<o>
 *        --root-directory=<dir> --pwd=<dir> --parallel=<n> [--dry-run] <entry point> [args…]
 *
 *   PULUMI_CONFIG              JSON object of the stack config, "namespace:key" → string value
 *   PULUMI_CONFIG_SECRET_KEYS  JSON array of the keys whose values are secrets
 *   PULUMI_NODEJS_TYPESCRIPT   "true" unless the project sets `runtime.options.typescript: false`;
 *                              the runner then registers ts-node (the program's, else its own)
 *   PULUMI_NODEJS_TSCONFIG_PATH  from `runtime.options.tsconfig`, when set
 *
 * The runner exits with 32 after it has reported an error to the engine itself; the engine must
 * then not print another one ("bail").
 */
import { spawn } from "node:child_process";

/** The runner's exit code meaning "the error was already reported to the user". */
export const EXIT_ERROR_ALREADY_REPORTED = 32;

/** What the engine's RunRequest says about the program, as plain values. */
export interface ProgramRun {
  project: string;
  stack: string;
  organization: string;
  /** The directory the program runs in (the program directory). */
  pwd: string;
  /** Where Pulumi.yaml is. */
  rootDirectory: string;
  /** Pulumi.yaml's `main`, relative to pwd; "." means package.json's `main` or index. */
  entryPoint: string;
  args: string[];
  config: Record<string, string>;
  configSecretKeys: string[];
  dryRun: boolean;
  parallel: number;
  monitorAddress: string;
  /** Pulumi.yaml's `runtime.options`. */
  options: Record<string, unknown>;
}

export interface ProgramCommand {
  args: string[];
  env: Record<string, string>;
}

/** Node's arguments and the extra environment for running `program` with the runner at `runner`. */
export function programCommand(
  program: ProgramRun,
  engineAddress: string,
  runner: string,
): ProgramCommand {
  const nodeArgs = String(program.options.nodeargs ?? "")
    .split(/\s+/)
    .filter((arg) => arg !== "");
  const flags = [
    `--monitor=${program.monitorAddress}`,
    `--engine=${engineAddress}`,
    `--project=${program.project}`,
    `--stack=${program.stack}`,
    `--organization=${program.organization}`,
    `--root-directory=${program.rootDirectory}`,
    `--pwd=${program.pwd}`,
    `--parallel=${program.parallel}`,
  ];
  if (program.dryRun) flags.push("--dry-run");
  const env: Record<string, string> = {
    PULUMI_CONFIG: JSON.stringify(program.config),
    PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(program.configSecretKeys),
    PULUMI_NODEJS_TYPESCRIPT: program.options.typescript === false ? "false" : "true",
  };
  if (typeof program.options.tsconfig === "string") {
    env.PULUMI_NODEJS_TSCONFIG_PATH = program.options.tsconfig;
  }
  return { args: [...nodeArgs, runner, ...flags, program.entryPoint, ...program.args], env };
}

/** Where the program's own SDK keeps its runner, or an error a user can act on. */
export function findRunner(programDirectory: string): string {
  try {
    return require.resolve("@pulumi/pulumi/cmd/run", { paths: [programDirectory] });
  } catch {
    throw new Error(
      `@pulumi/pulumi is not installed in ${programDirectory}: run \`npm install\` there first`,
    );
  }
}

/** The outcome the engine wants: nothing, an error text, or "bail" (already reported). */
export interface RunOutcome {
  error?: string;
  bail?: boolean;
}

export function outcomeOf(code: number | null, signal: NodeJS.Signals | null): RunOutcome {
  if (code === 0) return {};
  if (code === EXIT_ERROR_ALREADY_REPORTED) return { bail: true };
  if (signal) return { error: `Program exited due to signal ${signal}` };
  return { error: `Program exited with non-zero exit code: ${code}` };
}

/** Running programs, so that Cancel can stop them. */
const running = new Set<import("node:child_process").ChildProcess>();

/**
 * Runs the program to completion. Its stdout and stderr are ours, which the engine shows as the
 * program's output.
 */
export function runProgram(program: ProgramRun, engineAddress: string): Promise<RunOutcome> {
  let command: ProgramCommand;
  try {
    command = programCommand(program, engineAddress, findRunner(program.pwd));
  } catch (err) {
    return Promise.resolve({ error: (err as Error).message });
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, command.args, {
      cwd: program.pwd,
      env: { ...process.env, ...command.env },
      stdio: ["ignore", "inherit", "inherit"],
    });
    running.add(child);
    child.on("error", (err) => {
      running.delete(child);
      resolve({ error: `could not start ${process.execPath}: ${err.message}` });
    });
    child.on("exit", (code, signal) => {
      running.delete(child);
      resolve(outcomeOf(code, signal));
    });
  });
}

/** Asks every running program to stop (the engine's Cancel, e.g. after Ctrl-C). */
export function cancelPrograms(): void {
  for (const child of running) child.kill("SIGINT");
}
