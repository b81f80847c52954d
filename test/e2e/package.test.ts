/**
 * virtwire as a user gets it: `npm pack` of a fresh clone (package.json's `prepare` builds it),
 * the tarball installed by npm into new projects shaped like `pulumi new typescript`, each
 * type-checked with its own tsconfig (without skipLibCheck but for our examples' one) importing
 * `virtwire`, `virtwire/rpc` and `virtwire/provider`; `pulumi preview` of a pool and a volume from the stock project against the
 * test bed; and an install with `--omit=optional`, where ssh2 has none of its native add-ons and
 * still carries an SSH connection to the test bed's daemon.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { SSH, authorizeKey, hostKeys, makeClientKey } from "../support/ssh";
import { TEST_URI } from "../support/testbed";
import {
  ProjectShape,
  filesUnder,
  foreignDeclarationImports,
  installProject,
  npm,
  packFreshClone,
  typeCheck,
} from "./package-projects";
import { PulumiProject } from "./pulumi-project";

const run = promisify(execFile);

/** The projects, made in this order; the ones with `treeOf` get the stock project's tree. */
const PROJECTS: ProjectShape[] = [
  { name: "stock" }, // module commonjs, moduleResolution node
  // Our examples' tsconfig: moduleResolution node10, esModuleInterop, skipLibCheck.
  { name: "node10", tsconfigOf: "examples/lab/tsconfig.json", treeOf: "stock" },
  {
    name: "node16",
    compilerOptions: { module: "node16", moduleResolution: "node16" },
    treeOf: "stock",
  },
  {
    name: "bundler",
    compilerOptions: { module: "esnext", moduleResolution: "bundler" },
    treeOf: "stock",
  },
  {
    name: "esm",
    type: "module",
    compilerOptions: { target: "es2022", module: "nodenext", moduleResolution: "nodenext" },
    treeOf: "stock",
  },
  { name: "omit-optional", installFlags: ["--omit=optional"] },
];
/** The projects tsc checks: all but omit-optional, whose tsconfig is the stock one. */
const TYPE_CHECKED = PROJECTS.map((shape) => shape.name).filter((name) => name !== "omit-optional");

const testStarted = Date.now();
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "vwtest-pkg-"));
const dirs: Record<string, string> = {};
const timings: string[] = [];
let tarball: string;

async function timed<T>(what: string, work: Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await work;
  timings.push(`${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

/** Runs `script` as `file` with node in a project directory; its stdout, parsed as JSON. */
async function nodeIn(dir: string, file: string, script: string, args: string[] = []) {
  fs.writeFileSync(path.join(dir, file), script);
  const { stdout } = await run(process.execPath, [file, ...args], { cwd: dir }).catch(
    (error: { stderr?: string }) => {
      throw new Error(`node ${file} in ${dir} failed:\n${error.stderr ?? error}`);
    },
  );
  return JSON.parse(stdout) as unknown;
}

beforeAll(async () => {
  const started = Date.now();
  tarball = await timed("npm pack of a fresh clone (prepare: the build)", packFreshClone(scratch));
  for (const shape of PROJECTS) {
    const how = shape.treeOf
      ? `the tree of ${shape.treeOf}`
      : `npm install --offline ${shape.installFlags?.join(" ") ?? ""}`;
    dirs[shape.name] = await timed(
      `project ${shape.name}: ${how.trim()}`,
      installProject(scratch, tarball, shape),
    );
  }
  timings.push(`(set-up in all: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
});

afterAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
  timings.push(`(in all: ${((Date.now() - testStarted) / 1000).toFixed(1)} s)`);
  console.log(`package e2e timings:\n  ${timings.join("\n  ")}`);
});

describe("npm pack of a fresh clone", () => {
  it("ships the compiled package, LICENSE, README.md and schema.json, and no tests", async () => {
    const { stdout } = await run("tar", ["-tzf", tarball]);
    const files = stdout.trim().split("\n").sort();
    for (const file of ["dist/index.js", "dist/rpc/index.d.ts", "dist/provider/index.js"]) {
      expect(files).toContain(`package/${file}`);
    }
    const others = files.filter((file) => !/^package\/dist\/.*\.(js|d\.ts)$/.test(file));
    expect(others).toEqual([
      "package/LICENSE",
      "package/README.md",
      "package/package.json",
      "package/schema.json",
    ]);
    expect(files.filter((file) => /\.test\.|\/test\//.test(file))).toEqual([]);
  });

  it("installs as a real directory where every entry point of package.json exists", () => {
    const installed = path.join(dirs.stock!, "node_modules/virtwire");
    expect(fs.lstatSync(installed).isDirectory()).toBe(true);
    const manifest = JSON.parse(fs.readFileSync(path.join(installed, "package.json"), "utf8"));
    const targets: string[] = [manifest.main, manifest.types];
    const collect = (value: unknown): void => {
      if (typeof value === "string") targets.push(value);
      else if (value && typeof value === "object") Object.values(value).forEach(collect);
    };
    collect(manifest.exports);
    collect(manifest.typesVersions);
    const missing = targets.filter((target) => !fs.existsSync(path.join(installed, target)));
    expect(missing).toEqual([]);
    expect(targets).toEqual(expect.arrayContaining(["./dist/rpc/index.d.ts"]));
  });

  it("points at no source map, and its declarations import only what a user's project has", () => {
    const installed = path.join(dirs.stock!, "node_modules/virtwire");
    const scripts = filesUnder(installed).filter((file) => file.endsWith(".js"));
    expect(scripts.length).toBeGreaterThan(100);
    const mapped = scripts.filter((file) =>
      fs.readFileSync(path.join(installed, file), "utf8").includes("sourceMappingURL"),
    );
    expect(mapped).toEqual([]);
    expect(foreignDeclarationImports(installed)).toEqual({});
  });
});

describe("a project with the installed package", () => {
  it.each(TYPE_CHECKED)(
    "%s: tsc --noEmit is clean importing virtwire, virtwire/rpc and virtwire/provider",
    async (name) => {
      expect(await timed(`tsc --noEmit (${name})`, typeCheck(dirs[name]!))).toBe("");
    },
  );

  it("esm: Node.js gives the named exports of all three entry points to an ES module", async () => {
    const script = `import { Pool, Volume, rpc } from "virtwire";
import { Libvirt, LibvirtError } from "virtwire/rpc";
import provider from "virtwire/provider";
const kinds = [Pool, Volume, rpc.Libvirt, Libvirt, LibvirtError, provider.create];
console.log(JSON.stringify(kinds.map((value) => typeof value)));
`;
    expect(await nodeIn(dirs.esm!, "check.mjs", script)).toEqual(Array(6).fill("function"));
  });

  it("stock: `pulumi preview` of a pool and a volume runs virtwire's provider from node_modules", async () => {
    const poolPath = `/var/lib/libvirt/images/vwtest-pkg-${randomBytes(3).toString("hex")}`;
    const project = await PulumiProject.inDirectory(dirs.stock!, "pkg");
    await project.setConfig("virtwire:uri", TEST_URI);
    await project.setConfig("poolPath", poolPath);
    const { stdout } = await timed("pulumi preview (stock)", project.pulumi("preview", "--json"));
    const steps = (JSON.parse(stdout) as { steps: PreviewStep[] }).steps;
    const planned = Object.fromEntries(
      steps.map((step) => [step.urn.split("::").pop(), step.newState?.inputs ?? {}]),
    );
    // check() ran: auto-names and the schema's defaults are filled in.
    expect(planned.images).toMatchObject({ type: "dir", autostart: true, targetPath: poolPath });
    expect(planned.images!.name).toMatch(/^images-[0-9a-f]{7}$/);
    expect(planned.disk).toMatchObject({ pool: planned.images!.name, capacity: "1MiB" });
    // The provider is the installed package's, stored as a stub that requires it.
    expect(planned.images!.__provider).toContain('require("virtwire/provider")');
    expect(fs.existsSync(poolPath)).toBe(false);
  });
});

interface PreviewStep {
  urn: string;
  newState?: { inputs?: Record<string, string> };
}

describe("npm install --omit=optional", () => {
  it("leaves out cpu-features and nan, so ssh2 has no native add-on", async () => {
    const dir = dirs["omit-optional"]!;
    expect(fs.existsSync(path.join(dir, "node_modules/cpu-features"))).toBe(false);
    expect(fs.existsSync(path.join(dir, "node_modules/nan"))).toBe(false);
    // ssh2's install script, as a fresh install runs it: without nan its binding cannot build.
    await timed("npm rebuild ssh2 (omit-optional)", npm(dir, "rebuild", "ssh2", "--offline"));
    const binding = "node_modules/ssh2/lib/protocol/crypto/build/Release/sshcrypto.node";
    expect(fs.existsSync(path.join(dir, binding))).toBe(false);
  });

  it("and virtwire/rpc still logs in over SSH and calls the test bed's daemon", async () => {
    const dir = dirs["omit-optional"]!;
    const key = makeClientKey();
    const revoke = authorizeKey("root", key);
    const keyFile = path.join(scratch, "id_ed25519");
    fs.writeFileSync(keyFile, key.privateKey, { mode: 0o600 });
    const script = `const { Libvirt } = require("virtwire/rpc");
const crypto = require("ssh2/lib/protocol/crypto.js");
const [uri, pinned] = process.argv.slice(2);
(async () => {
  const ssh = { agent: false, hostKeyFingerprint: JSON.parse(pinned) };
  const lv = await Libvirt.connect(uri, { ssh });
  const { lib_ver } = await lv.ConnectGetLibVersion();
  await lv.close();
  let cpuFeatures = true;
  try { require.resolve("cpu-features"); } catch { cpuFeatures = false; }
  console.log(JSON.stringify({ libVersion: Number(lib_ver), binding: crypto.bindingAvailable, cpuFeatures }));
})().catch((error) => { console.error(error.message); process.exit(1); });
`;
    try {
      const uri = `qemu+ssh://root@${SSH.host}:${SSH.port}/system?keyfile=${keyFile}`;
      const pinned = JSON.stringify(hostKeys().map((hostKey) => hostKey.fingerprint));
      const result = await timed(
        "SSH login and call (omit-optional)",
        nodeIn(dir, "ssh-check.cjs", script, [uri, pinned]),
      );
      expect(result).toEqual({
        libVersion: expect.any(Number),
        binding: false,
        cpuFeatures: false,
      });
      expect((result as { libVersion: number }).libVersion).toBeGreaterThanOrEqual(9_000_000);
    } finally {
      revoke();
      fs.rmSync(keyFile, { force: true });
    }
  });
});
