/**
 * The pieces of test/e2e/package.test.ts: a fresh clone of the repository, projects shaped like
 * `pulumi new typescript` with virtwire installed by npm from a tarball, and a look at what a
 * package's declarations import.
 *
 * npm runs offline (the tests run in the `virtwire` network namespace, which has no route to the
 * registry): a project starts with a hard-link copy of the repository's node_modules, as
 * test/support/program-dir.ts makes them, and `npm install --offline` then makes it the project's
 * own tree, as a user's install would: it adds virtwire from the tarball (a real directory, its
 * dependencies already there) and removes what the project does not need (jest, eslint, …).
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import { builtinModules } from "node:module";
import * as path from "node:path";
import { promisify } from "node:util";
import * as ts from "typescript";
import { REPO_ROOT } from "../support/program-dir";

const run = promisify(execFile);

/** The repository's node_modules, through a symlink if it is one (a worktree's may be). */
const REPO_NODE_MODULES = fs.realpathSync(path.join(REPO_ROOT, "node_modules"));

/** What `git clone` would give: tracked files and new ones not ignored, as they are on disk. */
async function cloneFiles(): Promise<string[]> {
  const { stdout } = await run(
    "git",
    ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    {
      cwd: REPO_ROOT,
      maxBuffer: 16 << 20,
    },
  );
  return stdout.split("\0").filter((file) => file && fs.existsSync(path.join(REPO_ROOT, file)));
}

/**
 * `npm pack` in a fresh clone of the repository (its files copied into `scratch/clone`, with the
 * repository's node_modules linked in place of `npm ci`), which runs package.json's `prepare`,
 * the build. Returns the tarball, written to `scratch`.
 */
export async function packFreshClone(scratch: string): Promise<string> {
  const clone = path.join(scratch, "clone");
  for (const file of await cloneFiles()) {
    fs.cpSync(path.join(REPO_ROOT, file), path.join(clone, file), { recursive: true });
  }
  fs.symlinkSync(REPO_NODE_MODULES, path.join(clone, "node_modules"));
  await npm(clone, "pack", "--offline", "--silent", "--pack-destination", scratch);
  const [tarball, ...more] = fs
    .readdirSync(scratch)
    .filter((name) => /^virtwire-.*\.tgz$/.test(name));
  if (!tarball || more.length > 0) throw new Error(`npm pack made ${[tarball, ...more]}`);
  return path.join(scratch, tarball);
}

export async function npm(cwd: string, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await run("npm", [...args, "--no-audit", "--no-fund"], {
      cwd,
      env: { ...process.env, npm_config_update_notifier: "false" },
      maxBuffer: 64 << 20,
    });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`npm ${args.join(" ")} in ${cwd} failed:\n${stdout ?? ""}\n${stderr ?? error}`);
  }
}

/** The version of a package in the repository's node_modules (what the projects get). */
function repoVersion(name: string): string {
  const manifest = path.join(REPO_NODE_MODULES, name, "package.json");
  return JSON.parse(fs.readFileSync(manifest, "utf8")).version;
}

/**
 * `pulumi new typescript`'s tsconfig.json (its template, as the CLI writes it): CommonJS,
 * moduleResolution node (node10), strict, and no skipLibCheck, so every declaration file of every
 * package is checked.
 */
export const STOCK_COMPILER_OPTIONS = {
  strict: true,
  outDir: "bin",
  target: "es2020",
  module: "commonjs",
  moduleResolution: "node",
  sourceMap: true,
  experimentalDecorators: true,
  pretty: true,
  noFallthroughCasesInSwitch: true,
  noImplicitReturns: true,
  forceConsistentCasingInFileNames: true,
};

export interface ProjectShape {
  name: string;
  /** Compiler options over the stock ones. */
  compilerOptions?: Record<string, unknown>;
  /** A tsconfig.json of the repository whose compiler options replace the stock ones. */
  tsconfigOf?: string;
  /** `"module"` for an ES module project. */
  type?: "module";
  /** Extra flags for `npm install`, e.g. `--omit=optional`. */
  installFlags?: string[];
  /**
   * A project made earlier with the same dependencies whose installed tree is copied (hard links)
   * instead of running npm again; an ES module project's tree is the same.
   */
  treeOf?: string;
}

/**
 * The program: a pool and a volume (what `pulumi preview` shows), and the RPC client and the
 * provider object typed as a program would use them (the functions are not called; a stack
 * output must not be a function).
 */
function programSource(type: ProjectShape["type"]): string {
  const providerImport =
    type === "module"
      ? `import provider from "virtwire/provider";`
      : `import * as provider from "virtwire/provider";`;
  return `import * as pulumi from "@pulumi/pulumi";
import * as virtwire from "virtwire";
import { Libvirt, LibvirtError, isNotFound } from "virtwire/rpc";
${providerImport}

const config = new pulumi.Config();
const pool = new virtwire.Pool("images", { type: "dir", targetPath: config.require("poolPath") });
const disk = new virtwire.Volume("disk", { pool: pool.name, capacity: "1MiB" });
export const poolName = pool.name;
export const diskPath = disk.path;

async function libvirtVersion(uri: string): Promise<bigint | undefined> {
  const lv = await Libvirt.connect(uri, { callTimeoutMs: 10_000 });
  try {
    return (await lv.ConnectGetLibVersion()).lib_ver;
  } catch (error) {
    if (isNotFound(error) || error instanceof LibvirtError) return undefined;
    throw error;
  } finally {
    await lv.close();
  }
}

function dynamicProvider(): pulumi.dynamic.ResourceProvider {
  return provider;
}

void [libvirtVersion, dynamicProvider];
`;
}

/**
 * A project in `scratch/<name>` with virtwire installed from `tarball` by `npm install --offline`
 * (or the tree of `treeOf`):
 * package.json as `pulumi new typescript` writes it (@pulumi/pulumi, @types/node; typescript
 * added for `tsc`), tsconfig.json, Pulumi.yaml and index.ts.
 */
export async function installProject(
  scratch: string,
  tarball: string,
  shape: ProjectShape,
): Promise<string> {
  const dir = path.join(scratch, shape.name);
  fs.mkdirSync(dir);
  const tree = shape.treeOf ? path.join(scratch, shape.treeOf, "node_modules") : REPO_NODE_MODULES;
  await run("cp", ["-al", tree, path.join(dir, "node_modules")]);
  // npm would write the copied lock in place, that is into the repository's own (a hard link).
  if (!shape.treeOf) fs.rmSync(path.join(dir, "node_modules/.package-lock.json"), { force: true });
  const manifest = {
    name: `vwtest-${shape.name}`,
    ...(shape.type ? { type: shape.type } : {}),
    devDependencies: {
      "@types/node": repoVersion("@types/node"),
      typescript: repoVersion("typescript"),
    },
    dependencies: {
      "@pulumi/pulumi": repoVersion("@pulumi/pulumi"),
      virtwire: `file:${path.relative(dir, tarball)}`,
    },
  };
  const base = shape.tsconfigOf
    ? JSON.parse(fs.readFileSync(path.join(REPO_ROOT, shape.tsconfigOf), "utf8")).compilerOptions
    : STOCK_COMPILER_OPTIONS;
  const tsconfig = {
    compilerOptions: { ...base, ...shape.compilerOptions },
    files: ["index.ts"],
  };
  const write = (file: string, text: string) => fs.writeFileSync(path.join(dir, file), text);
  write("package.json", JSON.stringify(manifest, null, 4) + "\n");
  write("tsconfig.json", JSON.stringify(tsconfig, null, 4) + "\n");
  write("Pulumi.yaml", `name: vwtest-${shape.name}\nruntime: nodejs\n`);
  write("index.ts", programSource(shape.type));
  if (!shape.treeOf) await npm(dir, "install", "--offline", ...(shape.installFlags ?? []));
  return dir;
}

/** `tsc --noEmit` with the project's own TypeScript; its diagnostics, empty when clean. */
export async function typeCheck(dir: string): Promise<string> {
  const tsc = path.join(dir, "node_modules/typescript/bin/tsc");
  return run(process.execPath, [tsc, "--noEmit", "-p", dir, "--pretty", "false"], {
    cwd: dir,
    maxBuffer: 16 << 20,
  }).then(
    () => "",
    (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ""}${error.stderr ?? ""}`,
  );
}

/** Every file under `dir`, relative to it. */
export function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** The package a module specifier names (`@scope/name/sub` → `@scope/name`), or null for a path. */
function packageOf(specifier: string): string | null {
  if (specifier.startsWith(".") || specifier.startsWith("/")) return null;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

/**
 * What the installed package's declaration files import that a user's project may lack, per file:
 * packages that are neither Node.js built-ins (typed by @types/node, which every
 * `pulumi new typescript` project has) nor dependencies or peer dependencies, and packages whose
 * types do not resolve from there to a declaration file (a dependency without types of its own,
 * typed only by a dev dependency such as @types/ssh2: TS7016 in the user's `tsc`).
 */
export function foreignDeclarationImports(packageDir: string): Record<string, string[]> {
  const manifest = JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8"));
  const declared = new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
  ]);
  const builtins = new Set(builtinModules);
  const options = { moduleResolution: ts.ModuleResolutionKind.Node10 };
  const foreign: Record<string, string[]> = {};
  for (const file of filesUnder(packageDir).filter((f) => f.endsWith(".d.ts"))) {
    if (file.startsWith("node_modules/")) continue;
    const full = path.join(packageDir, file);
    const info = ts.preProcessFile(fs.readFileSync(full, "utf8"), true, true);
    const typed = (specifier: string) =>
      ts.resolveModuleName(specifier, full, options, ts.sys).resolvedModule?.extension ===
      ts.Extension.Dts;
    const outside = [
      ...info.importedFiles
        .map((ref) => ref.fileName)
        .filter((s) => !s.startsWith("node:") && !builtins.has(s) && packageOf(s) !== null)
        .filter((s) => !declared.has(packageOf(s)!) || !typed(s)),
      ...info.typeReferenceDirectives.map((ref) => `types ${ref.fileName}`),
    ];
    if (outside.length > 0) foreign[file] = [...new Set(outside)];
  }
  return foreign;
}
