/**
 * A Pulumi program directory with packages installed the way a user installs them, for driving the
 * real dynamic-provider plugin (pulumi-dynamic-providers.md §1.3, §6.1).
 *
 * The package under test is packed (`npm pack`) and extracted as a real directory under the
 * program's node_modules, so its provider module's path has a `node_modules` segment and
 * `__provider` serializes to the `require("<pkg>/provider")` stub. A `file:` dependency or a
 * symlink would make the serializer copy the provider's code instead.
 *
 * Third-party packages (@pulumi/pulumi and everyone's runtime dependencies) are not installed with
 * npm: tests run inside the `virtwire` network namespace, which has no route to the registry, and an
 * `npm install` would also re-resolve the whole tree. Instead the repository's node_modules is
 * copied with hard links (`cp -al`: half a second for ~25k files, no extra disk), which gives the
 * program exactly the versions of package-lock.json, @pulumi/pulumi included, and every file under
 * the program's own node_modules like a real install. Packed packages then replace or join it.
 *
 * Everything is cached under os.tmpdir(): tarballs by the hash of their sources, program
 * directories by the hash of their tarballs, the lock file, the Node version and the node_modules copied.
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export const REPO_ROOT = path.resolve(__dirname, "../..");

/**
 * The repository's node_modules, through a symlink if it is one (a git worktree's may point at the
 * main checkout's): `cp -al` of the link would copy the link, and packed packages would then be
 * extracted into the linked tree instead of the program's own.
 */
const REPO_NODE_MODULES = fs.realpathSync(path.join(REPO_ROOT, "node_modules"));

/** Where tarballs and staging directories live (program directories sit beside it). */
const CACHE_ROOT = path.join(os.tmpdir(), "virtwire-harness");
/** Part of a program directory's key: older ones may hold a symlink for node_modules. */
const LAYOUT = "node_modules: hard links from its real path";

const PRUNE_AFTER_MS = 24 * 60 * 60 * 1000;

/** What goes into the virtwire package: a change to any of these rebuilds the tarball. */
const VIRTWIRE_SOURCES = [
  "package.json",
  "tsconfig.json",
  "tsconfig.build.json",
  "README.md",
  "LICENSE",
];
const VIRTWIRE_SOURCE_DIRS = ["index.ts", "rpc", "provider", "resources", "sdk", "schema.json"];

export interface InstalledPackage {
  name: string;
  version: string;
  /** The package's directory under the program's node_modules. */
  dir: string;
  /** The tarball it was extracted from. */
  tarball: string;
}

export interface ProgramDir {
  dir: string;
  packages: InstalledPackage[];
  /** The @pulumi/pulumi version the program (and so the plugin) uses. */
  pulumiVersion: string;
  /** True when a cached directory was reused. */
  reused: boolean;
}

function sha256(...parts: (string | Buffer)[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part).update("\0");
  return hash.digest("hex");
}

/** Every file under `root` (a file or a directory), sorted, skipping node_modules. */
function listFiles(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  if (fs.statSync(root).isFile()) return [root];
  const files: string[] = [];
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    if (entry.name === "node_modules") continue;
    const full = path.join(root, entry.name);
    if (entry.isDirectory()) files.push(...listFiles(full));
    else if (entry.isFile()) files.push(full);
  }
  return files.sort();
}

function hashFiles(base: string, files: string[]): string {
  return sha256(...files.flatMap((file) => [path.relative(base, file), fs.readFileSync(file)]));
}

/** Moves `from` to `to` unless another process got there first; returns whether ours won. */
function renameIntoPlace(from: string, to: string): boolean {
  try {
    fs.renameSync(from, to);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
    fs.rmSync(from, { recursive: true, force: true });
    return false;
  }
}

/** Whether a cached file exists; if so its mtime records this use (for pruning). */
function reuse(file: string): boolean {
  if (!fs.existsSync(file)) return false;
  const now = new Date();
  fs.utimesSync(file, now, now);
  return true;
}

/**
 * `npm pack` of a directory that is ready as it is, without lifecycle scripts: virtwire's
 * `prepare` would build again, in a staging directory that has no sources.
 */
async function npmPack(packageDir: string, destination: string): Promise<string> {
  const { stdout } = await run(
    "npm",
    [
      "pack",
      "--offline",
      "--silent",
      "--ignore-scripts",
      "--pack-destination",
      destination,
      packageDir,
    ],
    { cwd: destination, maxBuffer: 16 << 20 },
  );
  const name = stdout.trim().split("\n").pop();
  if (!name) throw new Error(`npm pack ${packageDir} printed no file name`);
  return path.join(destination, name);
}

/**
 * Packs a ready package directory (no build step), e.g. a fixture under test/fixtures. The
 * tarball is reused while the directory's files are unchanged.
 */
export async function packDirectory(packageDir: string): Promise<string> {
  const files = listFiles(packageDir);
  const name = JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8")).name;
  const target = path.join(
    CACHE_ROOT,
    "packs",
    `${name.replace(/[@/]/g, "_")}-${hashFiles(packageDir, files).slice(0, 16)}.tgz`,
  );
  if (reuse(target)) return target;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const staging = fs.mkdtempSync(path.join(CACHE_ROOT, "pack-"));
  try {
    const tarball = await npmPack(packageDir, staging);
    renameIntoPlace(tarball, target);
    return target;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Builds virtwire (`tsc -p tsconfig.build.json` into a private staging directory, so concurrent
 * builds into the checkout's dist/ do not interfere) and packs it with `npm pack`, which applies
 * package.json's `files`. Reused while the package's sources and the TypeScript version are
 * unchanged. A type error fails the build.
 */
export async function packVirtwire(): Promise<string> {
  const files = [...VIRTWIRE_SOURCES, ...VIRTWIRE_SOURCE_DIRS]
    .flatMap((entry) => listFiles(path.join(REPO_ROOT, entry)))
    .filter((file) => !file.endsWith(".test.ts"));
  const tscPackage = path.join(REPO_ROOT, "node_modules/typescript/package.json");
  const key = sha256(hashFiles(REPO_ROOT, files), fs.readFileSync(tscPackage)).slice(0, 16);
  const target = path.join(CACHE_ROOT, "packs", `virtwire-${key}.tgz`);
  if (reuse(target)) return target;

  fs.mkdirSync(path.dirname(target), { recursive: true });
  const staging = fs.mkdtempSync(path.join(CACHE_ROOT, "build-"));
  try {
    const tsc = path.join(REPO_ROOT, "node_modules/typescript/bin/tsc");
    const build = ["-p", path.join(REPO_ROOT, "tsconfig.build.json")];
    await run(process.execPath, [tsc, ...build, "--outDir", path.join(staging, "dist")], {
      cwd: REPO_ROOT,
      maxBuffer: 16 << 20,
    }).catch((err: { stdout?: string }) => {
      throw new Error(`building virtwire failed:\n${err.stdout ?? String(err)}`);
    });
    for (const file of ["package.json", "README.md", "schema.json", "LICENSE"]) {
      const source = path.join(REPO_ROOT, file);
      if (fs.existsSync(source)) fs.copyFileSync(source, path.join(staging, file));
    }
    const tarball = await npmPack(staging, staging);
    renameIntoPlace(tarball, target);
    return target;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

// Run with cwd = the program directory, as a file there: `require(specifier)` then resolves through
// the program's node_modules, and the serializer makes module paths relative to process.cwd().
const SERIALIZE_SCRIPT_NAME = "serialize-provider.js";
const SERIALIZE_SCRIPT = `const pulumi = require("@pulumi/pulumi");
const provider = require(process.argv[2]);
pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true }).then(
  (fn) => process.stdout.write(JSON.stringify({ text: fn.text, containsSecrets: fn.containsSecrets })),
  (err) => { console.error(err.stack || String(err)); process.exit(1); },
);
`;

interface PackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

function readPackageJson(dir: string): PackageJson {
  return JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
}

/** Extracts a tarball (`package/` prefix) into node_modules/<name> as a real directory. */
async function installTarball(programDir: string, tarball: string): Promise<InstalledPackage> {
  const unpacked = fs.mkdtempSync(path.join(programDir, ".unpack-"));
  await run("tar", ["-xzf", tarball, "-C", unpacked]);
  const manifest = readPackageJson(path.join(unpacked, "package"));
  const dir = path.join(programDir, "node_modules", manifest.name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  fs.renameSync(path.join(unpacked, "package"), dir);
  fs.rmSync(unpacked, { recursive: true, force: true });
  // Runtime dependencies come from the copied node_modules: they must all be there.
  const needed = { ...manifest.peerDependencies, ...manifest.dependencies };
  const missing = Object.keys(needed).filter(
    (dep) => !fs.existsSync(path.join(programDir, "node_modules", dep, "package.json")),
  );
  if (missing.length > 0) {
    throw new Error(
      `${manifest.name} depends on ${missing.join(", ")}, which the repository's node_modules ` +
        `lacks; add them to the repository's package.json`,
    );
  }
  return { name: manifest.name, version: manifest.version, dir, tarball };
}

async function buildProgramDir(
  dir: string,
  tarballs: string[],
): Promise<{ packages: InstalledPackage[]; pulumiVersion: string }> {
  fs.mkdirSync(dir, { recursive: true });
  await run("cp", ["-al", REPO_NODE_MODULES, path.join(dir, "node_modules")]);
  // The copied lock describes the repository's tree, not this one.
  fs.rmSync(path.join(dir, "node_modules/.package-lock.json"), { force: true });
  const packages: InstalledPackage[] = [];
  for (const tarball of tarballs) packages.push(await installTarball(dir, tarball));
  const pulumiVersion = readPackageJson(path.join(dir, "node_modules/@pulumi/pulumi")).version;
  const dependencies: Record<string, string> = { "@pulumi/pulumi": pulumiVersion };
  for (const pkg of packages) dependencies[pkg.name] = `file:${pkg.tarball}`;
  const manifest = { name: "virtwire-test-program", private: true, dependencies };
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(manifest, null, 2) + "\n");
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: virtwire-test-program\nruntime: nodejs\n");
  fs.writeFileSync(path.join(dir, SERIALIZE_SCRIPT_NAME), SERIALIZE_SCRIPT);
  return { packages, pulumiVersion };
}

/**
 * A program directory with these tarballs installed (see the file comment). Reused while the
 * tarballs' contents, package-lock.json and the Node version are unchanged; safe to call from
 * several jest workers at once (each builds aside and the first rename wins).
 */
export async function prepareProgramDir(tarballs: string[]): Promise<ProgramDir> {
  const key = sha256(
    // Directories made before node_modules was copied as a real directory are not reused.
    "node_modules copied, not linked",
    ...tarballs.map((tarball) => sha256(fs.readFileSync(tarball))),
    fs.readFileSync(path.join(REPO_ROOT, "package-lock.json")),
    process.version,
    LAYOUT,
    REPO_NODE_MODULES,
  ).slice(0, 16);
  const dir = path.join(os.tmpdir(), `virtwire-program-${key}`);
  const marker = path.join(dir, ".ready.json");
  if (fs.existsSync(marker)) {
    const now = new Date();
    fs.utimesSync(marker, now, now); // last use, for pruning
    return { ...JSON.parse(fs.readFileSync(marker, "utf8")), reused: true };
  }
  pruneCache();
  const partial = `${dir}.partial-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    const built = await buildProgramDir(partial, tarballs);
    const pulumiVersion = built.pulumiVersion;
    const packages = built.packages.map((pkg) => ({
      ...pkg,
      dir: path.join(dir, path.relative(partial, pkg.dir)),
    }));
    const info = { dir, packages, pulumiVersion };
    fs.writeFileSync(path.join(partial, ".ready.json"), JSON.stringify(info, null, 2));
    const won = renameIntoPlace(partial, dir);
    return { ...info, reused: !won };
  } catch (err) {
    fs.rmSync(partial, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Removes program directories, tarballs and leftovers not used for a day. Every source change
 * makes a new tarball and directory (hard links: inodes, not data), so they would pile up.
 */
function pruneCache(): void {
  const cutoff = Date.now() - PRUNE_AFTER_MS;
  const stale = (file: string) => fs.existsSync(file) && fs.statSync(file).mtimeMs < cutoff;
  for (const name of fs.readdirSync(os.tmpdir())) {
    if (!name.startsWith("virtwire-program-")) continue;
    const dir = path.join(os.tmpdir(), name);
    const marker = path.join(dir, ".ready.json");
    if (fs.existsSync(marker) ? stale(marker) : stale(dir)) {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  for (const name of fs.existsSync(CACHE_ROOT) ? fs.readdirSync(CACHE_ROOT) : []) {
    const staging = path.join(CACHE_ROOT, name);
    if (name !== "packs" && stale(staging)) fs.rmSync(staging, { recursive: true, force: true });
  }
  const packs = path.join(CACHE_ROOT, "packs");
  for (const name of fs.existsSync(packs) ? fs.readdirSync(packs) : []) {
    if (stale(path.join(packs, name))) fs.rmSync(path.join(packs, name), { force: true });
  }
}

export interface SerializedProvider {
  /** The module text that `dynamic.Resource` stores as `__provider`. */
  text: string;
  /** Whether the closure captured a secret, making `__provider` a secret input. */
  containsSecrets: boolean;
}

/**
 * `__provider` for a provider module of the program directory (e.g. "virtwire/provider"), exactly
 * as `new dynamic.Resource(provider, …)` computes it: `serializeFunction(() => provider,
 * { allowSecrets: true })`, run in a child process inside the program directory.
 */
export async function serializeProvider(
  programDir: string,
  specifier: string,
): Promise<SerializedProvider> {
  // The directory's content never changes, so neither does the text: kept beside it.
  const cacheFile = path.join(programDir, `.serialized-${sha256(specifier).slice(0, 16)}.json`);
  if (fs.existsSync(cacheFile)) return JSON.parse(fs.readFileSync(cacheFile, "utf8"));
  const script = path.join(programDir, SERIALIZE_SCRIPT_NAME);
  const { stdout } = await run(process.execPath, [script, specifier], {
    cwd: programDir,
    maxBuffer: 64 << 20,
  }).catch((err: { stderr?: string }) => {
    throw new Error(`serializing ${specifier} failed:\n${err.stderr ?? String(err)}`);
  });
  const result = JSON.parse(stdout) as SerializedProvider;
  const partial = `${cacheFile}.${process.pid}`;
  fs.writeFileSync(partial, stdout);
  fs.renameSync(partial, cacheFile);
  return result;
}
