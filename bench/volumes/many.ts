/**
 * Issue 17's "100 volumes in one stack": a Pulumi program with one dir pool and N empty raw
 * volumes (VWBENCH_VOLUMES, default 100) is brought up once (not timed), then a no-change
 * `pulumi preview` and a `pulumi refresh` are timed VWBENCH_ROUNDS times each (default 5), as whole
 * processes under /usr/bin/time (wall, and user + system CPU of pulumi and every child: the
 * language host, the program, the provider). Also with PULUMI_NODEJS_TRANSPILE_ONLY=true, the
 * runner option that skips type-checking (README, Performance). Then destroyed; everything is
 * named vwtest-bench-vols-… and removed on exit. Run through bench/volumes/run.sh.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO_ROOT, packVirtwire, prepareProgramDir } from "../../test/support/program-dir";

const COUNT = Number(process.env.VWBENCH_VOLUMES ?? 100);
const ROUNDS = Number(process.env.VWBENCH_ROUNDS ?? 5);
const need = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run bench/volumes/run.sh)`);
  return value;
};

const PROGRAM = (pool: string, target: string, count: number) => `
import * as virtwire from "virtwire";
const pool = new virtwire.Pool("pool", { name: "${pool}", type: "dir", targetPath: "${target}" });
for (let i = 0; i < ${count}; i++) {
  new virtwire.Volume(\`vol\${i}\`, { pool: pool.name, name: \`${pool}-\${i}.img\`, capacity: "1MiB", format: "raw" });
}
`;

interface Timing {
  wall: number;
  cpu: number;
}

function run(args: string[], env: NodeJS.ProcessEnv, cwd: string, timed: boolean): Timing {
  const format = "%e %U %S";
  const argv = timed ? ["-f", format, "-o", path.join(cwd, ".time"), "pulumi", ...args] : args;
  const result = spawnSync(timed ? "/usr/bin/time" : "pulumi", argv, {
    cwd,
    env,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    throw new Error(`pulumi ${args.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
  }
  if (!timed) return { wall: 0, cpu: 0 };
  const [wall, user, sys] = fs
    .readFileSync(path.join(cwd, ".time"), "utf8")
    .trim()
    .split(/\s+/)
    .slice(-3)
    .map(Number);
  return { wall: wall!, cpu: user! + sys! };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const spread = (values: number[]) =>
  `${median(values).toFixed(2)} s (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`;

async function main() {
  const hex = randomBytes(3).toString("hex");
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `vwtest-bench-vols-${hex}-`));
  const program = await prepareProgramDir([await packVirtwire()]);
  const dir = path.join(work, "program");
  fs.mkdirSync(dir);
  spawnSync("cp", ["-al", path.join(program.dir, "node_modules"), dir]);
  const pool = `vwtest-bench-vols-${hex}`;
  fs.writeFileSync(path.join(dir, "index.ts"), PROGRAM(pool, path.join(work, "pool"), COUNT));
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: vols\nruntime: nodejs\n");
  // The lab's own: what `pulumi new typescript` makes, for a program beside node_modules.
  fs.copyFileSync(
    path.join(REPO_ROOT, "examples/lab/tsconfig.json"),
    path.join(dir, "tsconfig.json"),
  );
  fs.mkdirSync(path.join(dir, ".state"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${need("VWBENCH_PULUMI_BIN")}:${process.env.PATH}`,
    PULUMI_HOME: path.join(dir, ".pulumi-home"),
    PULUMI_BACKEND_URL: `file://${path.join(dir, ".state")}`,
    PULUMI_CONFIG_PASSPHRASE: randomBytes(12).toString("hex"),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_SKIP_CONFIRMATIONS: "true",
    NO_COLOR: "1",
  };
  const transpileOnly = { ...env, PULUMI_NODEJS_TRANSPILE_ONLY: "true" };
  try {
    run(["stack", "init", "bench"], env, dir, false);
    run(["config", "set", "virtwire:uri", need("VWBENCH_URI")], env, dir, false);
    const up = run(["up", "--yes", "--skip-preview"], env, dir, true);
    console.log(
      `bench: ${COUNT} volumes created in ${up.wall.toFixed(1)} s (not part of the figures)`,
    );
    const figures: Record<string, Timing[]> = {};
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [name, args, vars] of [
        ["preview", ["preview", "--expect-no-changes"], env],
        ["preview, transpile-only", ["preview", "--expect-no-changes"], transpileOnly],
        ["refresh", ["refresh", "--yes", "--expect-no-changes"], env],
      ] as const) {
        (figures[name] ??= []).push(run([...args], vars, dir, true));
      }
      console.log(
        `bench: round ${round} of ${ROUNDS} done; load average ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(" ")}`,
      );
    }
    console.log(
      `\n## ${COUNT} volumes in one stack, ${ROUNDS} rounds, ${os.cpus().length} cores\n`,
    );
    console.log("| command | wall, median (min–max) | CPU of the process tree, median (min–max) |");
    console.log("| --- | --- | --- |");
    for (const [name, timings] of Object.entries(figures)) {
      console.log(
        `| ${name} | ${spread(timings.map((t) => t.wall))} | ${spread(timings.map((t) => t.cpu))} |`,
      );
    }
  } finally {
    try {
      run(["destroy", "--yes", "--skip-preview"], env, dir, false);
    } catch (error) {
      console.error(`bench: destroy: ${error}`);
    }
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`bench: ${error instanceof Error ? error.stack : error}`);
  process.exit(1);
});
