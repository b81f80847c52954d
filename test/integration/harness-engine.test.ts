// The engine's step model (test/support/engine.ts) over the real dynamic-provider plugin, proven
// with the echo fixture (test/fixtures/echo-provider): each step is what `pulumi up`, `preview`,
// `refresh` and `destroy` would do for one resource.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Engine, StepError } from "../support/engine";
import {
  packDirectory,
  prepareProgramDir,
  REPO_ROOT,
  SerializedProvider,
  serializeProvider,
} from "../support/program-dir";
import { PulumiPlugin } from "../support/pulumi-plugin";
import { isSecret, PropertyMap, reveal, secret, UNKNOWN } from "../support/pulumi-wire";

const THING = "pulumi-nodejs:dynamic/echo:Thing";

let provider: SerializedProvider;
let plugin: PulumiPlugin;
let world: string;
let engine: Engine;

beforeAll(async () => {
  const fixture = path.join(REPO_ROOT, "test/fixtures/echo-provider");
  const program = await prepareProgramDir([await packDirectory(fixture)]);
  provider = await serializeProvider(program.dir, "virtwire-echo-provider/provider");
  world = fs.mkdtempSync(path.join(os.tmpdir(), "vwtest-echo-world-"));
  plugin = await PulumiPlugin.start(program.dir);
});

beforeEach(() => {
  const config = { "echo:worldDir": world, "echo:password": "hunter2-config" };
  engine = new Engine(plugin, { provider, config, secretKeys: ["echo:password"] });
});

afterEach(async () => {
  await engine.destroy().catch(() => undefined);
});

afterAll(async () => {
  await plugin?.stop();
  if (world) fs.rmSync(world, { recursive: true, force: true });
});

function inWorld(id: string): PropertyMap | undefined {
  const file = path.join(world, `${id}.json`);
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : undefined;
}

function editWorld(id: string, change: (record: PropertyMap) => void): void {
  const record = inWorld(id) ?? {};
  change(record);
  fs.writeFileSync(path.join(world, `${id}.json`), JSON.stringify(record));
}

describe("up", () => {
  test("creates, keeps, updates, then replaces create-before-delete with a fresh check", async () => {
    const created = await engine.up(THING, "life", { resourceName: "life", size: 1 });
    expect(created).toMatchObject({ step: "create", calls: ["check", "create"] });
    expect(inWorld(created.id)).toMatchObject({ size: 1 });

    const same = await engine.up(THING, "life", { resourceName: "life", size: 1 });
    expect(same).toMatchObject({ step: "same", id: created.id, calls: ["check", "diff"] });
    expect(same.diff?.changes).toBe("none");

    const updated = await engine.up(THING, "life", { resourceName: "life", size: 2 });
    expect(updated).toMatchObject({ step: "update", id: created.id });
    expect(updated.outputs.size).toBe(2);

    const replaced = await engine.up(THING, "life", { resourceName: "life", size: 2, zone: "b" });
    expect(replaced).toMatchObject({ step: "replace", diff: { replaces: ["zone"] } });
    expect(replaced.calls).toEqual(["check", "diff", "check", "create", "delete"]);
    // Checked again from empty olds: the name (and so the id) is generated anew.
    expect(replaced.id).not.toBe(created.id);
    expect(inWorld(created.id)).toBeUndefined();
    expect(inWorld(replaced.id)).toMatchObject({ zone: "b" });
  });

  test("replaces delete-before-create when diff() asks or the resource option says so", async () => {
    await engine.up(THING, "dbr", { resourceName: "dbr", name: "dbr", dbr: true });
    const byProvider = await engine.up(THING, "dbr", {
      resourceName: "dbr",
      name: "dbr",
      dbr: true,
      zone: "b",
    });
    expect(byProvider.calls).toEqual(["check", "diff", "check", "delete", "create"]);
    const byOption = await engine.up(
      THING,
      "dbr",
      { resourceName: "dbr", name: "dbr", zone: "c" },
      { deleteBeforeReplace: true },
    );
    expect(byOption.calls).toEqual(["check", "diff", "check", "delete", "create"]);
    const overruled = await engine.up(
      THING,
      "dbr",
      { resourceName: "dbr", name: "dbr2", dbr: true, zone: "d" },
      { deleteBeforeReplace: false },
    );
    expect(overruled.calls).toEqual(["check", "diff", "check", "create", "delete"]);
  });

  test("diffs the inputs itself when diff() leaves `changes` unset (DIFF_UNKNOWN)", async () => {
    const inputs = { resourceName: "unknown", diffUnknown: true, size: 1 };
    await engine.up(THING, "unknown", inputs);
    expect((await engine.up(THING, "unknown", inputs)).step).toBe("same");
    const updated = await engine.up(THING, "unknown", { ...inputs, size: 2 });
    expect(updated).toMatchObject({
      step: "update",
      diff: { changes: "some", changedKeys: ["size"] },
    });
    const replaced = await engine.up(THING, "unknown", { ...inputs, size: 2, zone: "b" });
    expect(replaced).toMatchObject({ step: "replace", diff: { replaces: ["zone"] } });
  });

  test("stops at check failures, worded as the engine words them", async () => {
    const failure = await engine
      .up(THING, "bad", { resourceName: "bad", size: -1 })
      .catch((e) => e);
    expect(failure).toBeInstanceOf(StepError);
    expect(failure.diagnostics).toEqual([
      `${THING} resource 'bad': property size value {-1} has a problem: must not be negative`,
    ]);
    const whole = await engine
      .up(THING, "bad", { resourceName: "bad", reject: "no thanks" })
      .catch((e) => e);
    expect(whole.message).toBe(`${THING} resource 'bad' has a problem: no thanks`);
    expect(engine.has(engine.urn(THING, "bad"))).toBe(false);
    expect(fs.readdirSync(world).filter((file) => file.startsWith("echo-bad"))).toEqual([]);
  });

  test("records a partial create with initErrors and __provider, and updates it next time", async () => {
    const inputs = { resourceName: "partial", name: "partial", failCreate: true };
    const failure = await engine.up(THING, "partial", inputs).catch((e) => e);
    expect(failure.diagnostics).toEqual([
      `${engine.urn(THING, "partial")}: echo-partial did not start`,
      "the echo did not come back",
    ]);
    const stored = engine.resource(engine.urn(THING, "partial"));
    expect(stored).toMatchObject({
      id: "echo-partial",
      initErrors: ["the echo did not come back"],
    });
    expect(stored.outputs.__provider).toBe(provider.text);
    const retried = await engine.up(THING, "partial", inputs);
    expect(retried).toMatchObject({ step: "update", diff: { changes: "none" } });
    expect(engine.resource(retried.urn).initErrors).toBeUndefined();
  });
});

describe("preview", () => {
  test("checks and diffs, sending unknowns as the sentinel, and never creates or updates", async () => {
    const planned = await engine.preview(THING, "pv", {
      resourceName: "pv",
      name: "pv",
      size: UNKNOWN,
    });
    expect(planned).toMatchObject({ step: "create", id: "", calls: ["check"] });
    expect(planned.inputs.size).toBe(UNKNOWN); // the provider's check echoed the sentinel back
    expect(inWorld("echo-pv")).toBeUndefined();

    await engine.up(THING, "pv", { resourceName: "pv", name: "pv", size: 1 });
    const change = await engine.preview(THING, "pv", { resourceName: "pv", name: "pv", size: 5 });
    expect(change).toMatchObject({
      step: "update",
      calls: ["check", "diff"],
      outputs: { size: 5 },
    });
    expect(inWorld("echo-pv")).toMatchObject({ size: 1 });
    expect(engine.resource(change.urn).outputs.size).toBe(1);
  });
});

describe("secrets", () => {
  test("marks same-named and additionalSecretOutputs secret, never stored or printed in plaintext", async () => {
    const inputs = { resourceName: "sec", password: secret("s3cret-input") };
    const step = await engine.up(THING, "sec", inputs, { additionalSecretOutputs: ["echoId"] });
    expect(isSecret(step.inputs.password)).toBe(true);
    expect(isSecret(step.outputs.password)).toBe(true);
    expect(isSecret(step.outputs.echoId)).toBe(true);
    expect(reveal(step.outputs.password)).toBe("s3cret-input");
    expect(inWorld(step.id)).toMatchObject({ password: "s3cret-input" }); // the provider saw plain text
    const updated = await engine.up(
      THING,
      "sec",
      { ...inputs, size: 3 },
      { additionalSecretOutputs: ["echoId"] },
    );
    expect(isSecret(updated.outputs.echoId)).toBe(true);
    await plugin.quiet();
    for (const text of ["s3cret-input", "hunter2-config"]) {
      expect(engine.stateJson()).not.toContain(text);
      expect(plugin.output).not.toContain(text);
    }
  });

  test("exposes a leak: a secret copied to an output of another name is stored in plaintext", async () => {
    await engine.up(THING, "leaky", {
      resourceName: "leaky",
      password: secret("s3cret-leak"),
      leak: true,
    });
    expect(engine.stateJson()).toContain('"leakedPassword":"s3cret-leak"');
  });
});

describe("refresh", () => {
  test("takes drift, inputs that read() returns, and removes what is gone", async () => {
    const { id, urn } = await engine.up(THING, "drift", { resourceName: "drift", size: 1 });
    expect(await engine.refresh()).toEqual([{ urn, deleted: false, changed: false }]);

    editWorld(id, (record) => (record.size = 7));
    expect(await engine.refresh()).toEqual([{ urn, deleted: false, changed: true }]);
    expect(engine.resource(urn).outputs.size).toBe(7);

    editWorld(id, (record) => (record.readInputs = { resourceName: "drift", size: 7 }));
    await engine.refresh();
    expect(engine.resource(urn).inputs).toEqual({
      resourceName: "drift",
      size: 7,
      __provider: provider.text,
    });

    fs.rmSync(path.join(world, `${id}.json`));
    expect(await engine.refresh()).toEqual([{ urn, deleted: true, changed: true }]);
    expect(engine.has(urn)).toBe(false);
  });
});

describe("destroy and get", () => {
  test("deletes newest first with the old outputs and keeps a resource whose delete fails", async () => {
    const stubborn = await engine.up(THING, "stubborn", {
      resourceName: "s",
      name: "stubborn",
      failDelete: true,
    });
    const easy = await engine.up(THING, "easy", { resourceName: "e", name: "easy" });
    await expect(engine.destroy()).rejects.toThrow("echo-stubborn refuses to go");
    expect(engine.has(easy.urn)).toBe(false);
    expect(inWorld(easy.id)).toBeUndefined();
    expect(engine.has(stubborn.urn)).toBe(true);
    await engine.up(THING, "stubborn", { resourceName: "s", name: "stubborn" });
    expect(await engine.destroy()).toEqual([stubborn.urn]);
  });

  test("reads an existing resource by id (get) and never deletes it", async () => {
    const original = await engine.up(THING, "orig", { resourceName: "orig", size: 4 });
    const other = new Engine(plugin, { provider, config: { "echo:worldDir": world } });
    const read = await other.get(THING, "copy", original.id);
    expect(read.outputs).toMatchObject({ size: 4, echoId: original.id });
    await other.destroy();
    expect(inWorld(original.id)).toBeDefined();
  });
});

describe("state", () => {
  test("stays small: __provider is a stub stored twice, and no absolute path is stored", async () => {
    const { urn } = await engine.up(THING, "small", { resourceName: "small", size: 1 });
    const entry = JSON.stringify(engine.state.resources.find((r) => r.urn === urn));
    expect(entry.length).toBeLessThan(1500);
    expect(entry.split('require(\\"virtwire-echo-provider/provider\\")').length - 1).toBe(2);
    expect(entry).not.toMatch(/\/(tmp|work|root|home|usr)\//);
  });
});
