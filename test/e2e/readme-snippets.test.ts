/**
 * The README's TypeScript snippets, as a user copies them, against virtwire packed and installed
 * like any package (scripts/readme-snippets.ts reads the markers that say what to do with each):
 * every one is type-checked with tsc; the programs run on the test bed through the real Pulumi
 * CLI (their `config` lines first, then `up`, a `preview` that must show no changes, `destroy`);
 * the ES modules run with node. The snippets name fixed things (the pool directory
 * /var/lib/libvirt/images/lab, the subnet 10.17.3.0/24), so one run at a time holds a lock.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import type { Libvirt } from "../../rpc";
import { Snippet, programs, readmeSnippets } from "../../scripts/readme-snippets";
import { DEBIAN_QCOW2 } from "../support/guest";
import { REPO_ROOT, packVirtwire, prepareProgramDir } from "../support/program-dir";
import { connectTestbed } from "../support/testbed";
import { inventory } from "./libvirt-inventory";
import { PulumiProject } from "./pulumi-project";
import { stackObjects } from "./state-report";

const run = promisify(execFile);
const snippets = readmeSnippets(path.join(REPO_ROOT, "README.md"));
const suffix = randomBytes(3).toString("hex");
const timings: string[] = [];
/** Directories the programs' pools make, removed afterwards unless they were there before. */
const POOL_DIRS = ["/var/lib/libvirt/images/lab"];
/** Files a program finds beside it, as its snippet's marker says. */
const FILES: Record<string, Record<string, string>> = { tour: { "debian-12.qcow2": DEBIAN_QCOW2 } };
/** What each program must output. */
const OUTPUTS: Record<string, Record<string, RegExp>> = {
  "provider-pool": { poolName: /^images-[0-9a-f]{7}$/ },
  tour: { ip: /^10\.17\.3\.1\d\d$/ },
};

/** tsconfig of a `pulumi new typescript` project (CommonJS), and of an ES module. */
const TSCONFIG = {
  program: {
    module: "commonjs",
    moduleResolution: "node10",
    target: "ES2020",
    files: ["index.ts"],
  },
  module: {
    module: "nodenext",
    moduleResolution: "nodenext",
    target: "ES2022",
    files: ["index.mts"],
  },
};

/** A directory with the program's node_modules (virtwire packed), `source` and a tsconfig. */
async function scratch(kind: "program" | "module", source: string): Promise<string> {
  const { dir: installed } = await prepareProgramDir([await packVirtwire()]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vwtest-readme-${kind}-`));
  const { files, ...options } = TSCONFIG[kind];
  const compilerOptions = { ...options, strict: true, esModuleInterop: true, skipLibCheck: true };
  fs.writeFileSync(
    path.join(dir, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { ...compilerOptions, types: ["node"] }, files }),
  );
  fs.writeFileSync(path.join(dir, files[0]!), source);
  const manifest = { name: `readme-${kind}`, main: "index.ts", private: true };
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(manifest));
  await run("cp", ["-al", path.join(installed, "node_modules"), dir]);
  return dir;
}

async function typecheck(dir: string, what: string): Promise<void> {
  const tsc = path.join(dir, "node_modules/typescript/bin/tsc");
  await run(process.execPath, [tsc, "-p", dir, "--noEmit"], { cwd: dir }).catch(
    (error: { stdout?: string }) => {
      throw new Error(`README.md: ${what} does not type-check:\n${error.stdout ?? String(error)}`);
    },
  );
}

const code = (snippet: Snippet) => snippet.prelude + snippet.code;

/** Holds /tmp/virtwire-readme-snippets.lock while `work` runs; waits for another run's. */
async function exclusively<T>(work: () => Promise<T>): Promise<T> {
  const lock = path.join(os.tmpdir(), "virtwire-readme-snippets.lock");
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: "wx" });
      break;
    } catch {
      const holder = Number(fs.readFileSync(lock, "utf8"));
      const alive = (() => {
        try {
          return process.kill(holder, 0);
        } catch {
          return false;
        }
      })();
      if (!alive) fs.rmSync(lock, { force: true });
      else await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
  try {
    return await work();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

describe("the README's snippets", () => {
  let lv: Libvirt;
  beforeAll(async () => {
    lv = await connectTestbed();
  });
  afterAll(async () => {
    await lv?.close();
    console.log(`README snippets:\n  ${timings.join("\n  ")}`);
  });

  it.each(snippets.filter((s) => s.how === "typecheck").map((s) => [s.id, s] as const))(
    "%s type-checks (it cannot run here)",
    async (_, snippet) => {
      const dir = await scratch(snippet.argument as "program" | "module", code(snippet));
      try {
        await typecheck(dir, `snippet ${snippet.id} (line ${snippet.line})`);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it.each(snippets.filter((s) => s.how === "module").map((s) => [s.id, s] as const))(
    "%s type-checks as an ES module and runs with node against the test bed",
    async (_, snippet) => {
      const dir = await scratch("module", code(snippet));
      try {
        await typecheck(dir, `snippet ${snippet.id} (line ${snippet.line})`);
        const tsc = path.join(dir, "node_modules/typescript/bin/tsc");
        await run(process.execPath, [tsc, "-p", dir], { cwd: dir });
        const started = Date.now();
        await run(process.execPath, [path.join(dir, "index.mjs")], { cwd: dir });
        timings.push(`${snippet.id}: ran in ${Date.now() - started} ms`);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it.each(programs(snippets).map((p) => [p.id, p] as const))(
    "program %s type-checks, and `pulumi up`, `preview` and `destroy` run it on the test bed",
    async (_, program) => {
      await exclusively(async () => {
        const existed = POOL_DIRS.filter((dir) => fs.existsSync(dir));
        const source = await scratch("program", program.code);
        fs.writeFileSync(
          path.join(source, "Pulumi.yaml"),
          `name: readme-${program.id}\nruntime: nodejs\n`,
        );
        let project: PulumiProject | undefined;
        let destroyed = false;
        try {
          await typecheck(source, `program ${program.id} (from line ${program.line})`);
          // The tour boots a Debian guest under TCG and waits for cloud-init.
          project = await PulumiProject.create(source, `vwtest-readme-${suffix}`, {
            commandTimeoutMs: 900_000,
          });
          for (const [name, file] of Object.entries(FILES[program.id] ?? {})) {
            fs.symlinkSync(file, path.join(project.dir, name));
          }
          for (const config of snippets.filter((s) => s.how === "config" && s.id === program.id)) {
            await run("bash", ["-euc", config.code], { cwd: project.dir, env: project.env });
          }
          const up = await project.pulumi("up", "--yes", "--skip-preview");
          const outputs = await project.outputs();
          for (const [name, pattern] of Object.entries(OUTPUTS[program.id] ?? {})) {
            expect(String(outputs[name])).toMatch(pattern);
          }
          await project.pulumi("preview", "--expect-no-changes");
          const created = stackObjects(await project.exportState());
          const down = await project.pulumi("destroy", "--yes", "--skip-preview");
          destroyed = true;
          timings.push(
            `${program.id}: up ${up.seconds.toFixed(1)} s, destroy ${down.seconds.toFixed(1)} s`,
          );
          const live = await inventory(lv);
          expect(live.domains.filter((name) => created.domains.includes(name))).toEqual([]);
          expect(live.networks.filter((name) => created.networks.includes(name))).toEqual([]);
          expect(live.pools.filter((name) => created.pools.includes(name))).toEqual([]);
          expect(live.volumes.filter((key) => created.volumes.includes(key))).toEqual([]);
        } finally {
          if (project && !destroyed) {
            await project.pulumi("destroy", "--yes", "--skip-preview").catch(() => undefined);
          }
          project?.remove();
          fs.rmSync(source, { recursive: true, force: true });
          // A dir pool's directory stays after destroy (the snippets do not set deleteTargetOnDestroy).
          for (const dir of POOL_DIRS.filter((dir) => !existed.includes(dir))) {
            fs.rmSync(dir, { recursive: true, force: true });
          }
        }
      });
    },
    1_800_000,
  );
});
