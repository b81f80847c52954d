// The plugin harness itself (test/support/program-dir.ts, pulumi-plugin.ts): a packed provider
// package installed in a program directory, its __provider stub, and the real dynamic-provider
// plugin of @pulumi/pulumi driven over gRPC. The fixture provider is test/fixtures/echo-provider.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Engine } from "../support/engine";
import {
  packDirectory,
  packVirtwire,
  prepareProgramDir,
  ProgramDir,
  REPO_ROOT,
  SerializedProvider,
  serializeProvider,
} from "../support/program-dir";
import { PluginCallError, PulumiPlugin, ResourceInitError } from "../support/pulumi-plugin";

const FIXTURE = path.join(REPO_ROOT, "test/fixtures/echo-provider");
const THING = "pulumi-nodejs:dynamic/echo:Thing";
const GRPC_UNKNOWN = 2;

let program: ProgramDir;
let provider: SerializedProvider;
let plugin: PulumiPlugin;
let world: string;
let config: Record<string, string>;

beforeAll(async () => {
  program = await prepareProgramDir([await packDirectory(FIXTURE)]);
  provider = await serializeProvider(program.dir, "virtwire-echo-provider/provider");
  world = fs.mkdtempSync(path.join(os.tmpdir(), "vwtest-echo-world-"));
  config = {
    "echo:worldDir": world,
    "echo:password": "hunter2-config",
    "virtwire-test-program:greeting": "hello",
  };
  plugin = await PulumiPlugin.start(program.dir);
});

afterAll(async () => {
  await plugin?.stop();
  if (world) fs.rmSync(world, { recursive: true, force: true });
});

describe("the program directory", () => {
  test("holds the packed package as a real directory beside the repository's @pulumi/pulumi", () => {
    const [echo] = program.packages;
    expect(echo?.name).toBe("virtwire-echo-provider");
    const installed = fs.lstatSync(path.join(program.dir, "node_modules/virtwire-echo-provider"));
    expect(installed.isSymbolicLink()).toBe(false);
    expect(installed.isDirectory()).toBe(true);
    const manifest = path.join(REPO_ROOT, "node_modules/@pulumi/pulumi/package.json");
    const repoPulumi = JSON.parse(fs.readFileSync(manifest, "utf8"));
    expect(program.pulumiVersion).toBe(repoPulumi.version);
    const pulumiDir = path.join(program.dir, "node_modules/@pulumi/pulumi");
    expect(fs.realpathSync(pulumiDir)).toBe(pulumiDir);
  });

  test("is reused while the tarball's content is unchanged", async () => {
    const started = Date.now();
    const again = await prepareProgramDir([await packDirectory(FIXTURE)]);
    expect(again).toMatchObject({ dir: program.dir, reused: true });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test("serializes a provider that is its module's exports to a require() stub under 1 KB", () => {
    expect(provider.text).toContain('require("virtwire-echo-provider/provider")');
    expect(provider.text.length).toBeLessThan(1024);
    expect(provider.text).not.toContain(program.dir);
    expect(provider.text).not.toContain(os.tmpdir());
    expect(provider.containsSecrets).toBe(false);
  });
});

describe("the plugin, called as the engine calls it", () => {
  test("answers Handshake with UNIMPLEMENTED and GetPluginInfo with the SDK version", async () => {
    expect(await plugin.handshake()).toBe(false);
    expect(await plugin.getPluginInfo()).toEqual({ version: program.pulumiVersion });
  });

  test("accepts neither secrets nor previews", async () => {
    const answer = await plugin.configure(config, ["echo:password"]);
    expect(answer).toEqual({
      acceptSecrets: false,
      acceptResources: false,
      supportsPreview: false,
    });
  });

  test("gives configure() the namespaced stack config, bare keys in PULUMI_NODEJS_PROJECT's", async () => {
    const engine = new Engine(plugin, { provider, config, secretKeys: ["echo:password"] });
    const { outputs } = await engine.up(THING, "configured", { resourceName: "configured" });
    // greeting was read as "greeting"; authenticated says the secret arrived (in plain text).
    expect(outputs).toMatchObject({ greeting: "hello", authenticated: true });
    await engine.destroy();
  });

  test("sends a partial create back as ErrorResourceInitFailed in grpc-status-details-bin", async () => {
    const urn = plugin.urn(THING, "direct");
    const inputs = { __provider: provider.text, name: "direct", failCreate: true };
    const failure = await plugin.create(urn, inputs).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ResourceInitError);
    expect(failure).toMatchObject({
      message: "echo-direct did not start",
      id: "echo-direct",
      reasons: ["the echo did not come back"],
      properties: { name: "direct", echoId: "echo-direct", __provider: provider.text },
    });
    await plugin.delete(urn, "echo-direct", inputs, (failure as ResourceInitError).properties);
  });

  test("reports a provider's thrown error as UNKNOWN, its stack on the plugin's stderr", async () => {
    const urn = plugin.urn(THING, "stubborn");
    const outputs = { __provider: provider.text, failDelete: true };
    const failure = await plugin.delete(urn, "echo-stubborn", {}, outputs).catch((e) => e);
    expect(failure).toBeInstanceOf(PluginCallError);
    expect(failure).toMatchObject({ method: "Delete", code: GRPC_UNKNOWN });
    expect(failure.details).toContain("echo-stubborn refuses to go");
    expect(plugin.stderr).toContain("Error: echo-stubborn refuses to go");
  });

  test("keeps what the provider prints, as users would see it", async () => {
    const engine = new Engine(plugin, { provider, config });
    await engine.up(THING, "chatty", { resourceName: "chatty", name: "chatty" });
    await plugin.waitForOutput("echo: creating echo-chatty\n");
    expect(plugin.stdout).toContain("echo: creating echo-chatty\n");
    await engine.destroy();
  });
});

describe("configure() and the first calls", () => {
  test("concurrent first calls run before configure() has finished (the race)", async () => {
    const fresh = await PulumiPlugin.start(program.dir);
    try {
      const engine = new Engine(fresh, { provider, config });
      const names = ["r1", "r2", "r3", "r4"];
      const steps = await Promise.all(
        names.map((name) => engine.up(THING, name, { resourceName: name, probeRace: true })),
      );
      const early = steps.filter((step) => step.inputs.configuredAtEntry === false);
      // The first call configures; the others find the cached provider and run at once.
      expect(early.length).toBeGreaterThanOrEqual(1);
      // A provider that awaits its ready-promise still sees the configuration everywhere.
      for (const step of steps) expect(step.outputs.greeting).toBe("hello");
      await engine.destroy();
    } finally {
      await fresh.stop();
    }
  });
});

// virtwire's own provider module, once provider/index.ts is in the checkout (`export =` the
// provider, published as the `virtwire/provider` subpath).
const hasProvider = fs.existsSync(path.join(REPO_ROOT, "provider/index.ts"));
(hasProvider ? describe : describe.skip)("the packed virtwire package", () => {
  test("installs dist/ without tests and serializes virtwire/provider to the stub", async () => {
    const tarball = await packVirtwire();
    const files = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n");
    expect(files).toContain("package/dist/provider/index.js");
    expect(files.filter((file) => /\.test\.|\/test\//.test(file))).toEqual([]);
    const virtwireProgram = await prepareProgramDir([tarball]);
    const serialized = await serializeProvider(virtwireProgram.dir, "virtwire/provider");
    expect(serialized.text).toContain('require("virtwire/provider")');
    expect(serialized.text.length).toBeLessThan(1024);
    expect(serialized.containsSecrets).toBe(false);

    // The real plugin loads it from the program directory and runs its check.
    const virtwirePlugin = await PulumiPlugin.start(virtwireProgram.dir);
    try {
      const engine = new Engine(virtwirePlugin, { provider: serialized });
      const pool = "pulumi-nodejs:dynamic/virtwire:Pool";
      const failure = await engine.preview(pool, "p", { __kind: "Pool" }).catch((e) => e);
      expect(failure.diagnostics).toContainEqual(
        expect.stringMatching(/^\S+ resource 'p' has a problem: type is required/),
      );
    } finally {
      await virtwirePlugin.stop();
    }
  });
});
