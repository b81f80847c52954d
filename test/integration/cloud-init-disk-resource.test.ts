/**
 * The CloudInitDisk resource against the test bed's daemon, through the real dynamic-provider plugin
 * and the engine's step model (virtwire-engine.ts), step by step as `pulumi up/refresh/destroy` run
 * it: create (the volume holds exactly the seed image), read, a diff without changes, replacement
 * when the data changes (create-first under a new name, or delete-first for a fixed name, never a
 * "volume exists" failure), deletion outside Pulumi found by read, delete twice.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Libvirt, RemoteNonnullStoragePool } from "../../rpc/internal";
import { downloadVolume } from "../../transfer";
import { buildNoCloudIso } from "../../resources/cloud-init-disk/nocloud";
import { isSecret, secret } from "../support/pulumi-wire";
import { VirtwireEngine } from "../support/virtwire-engine";
import { connectTestbed, dirPoolXml, removePool, uniqueName } from "../support/testbed";

let lv: Libvirt;
let pool: RemoteNonnullStoragePool;
let dir: string;
let virtwire: VirtwireEngine;

const seed = {
  userData: "#cloud-config\nhostname: web\npassword: hunter2\nchpasswd: { expire: false }\n",
  metaData: "local-hostname: web\n",
  networkConfig: "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n",
};

async function volumeNames(): Promise<string[]> {
  await lv.StoragePoolRefresh({ pool, flags: 0 });
  const { vols } = await lv.StoragePoolListAllVolumes({ pool, need_results: 1, flags: 0 });
  return vols.map((vol) => vol.name).sort();
}

async function contentOf(key: string): Promise<Buffer> {
  const { vol } = await lv.StorageVolLookupByKey({ key });
  const file = join(dir, `download-${Date.now()}.iso`);
  await downloadVolume(lv, vol, file);
  return readFile(file);
}

beforeAll(async () => {
  lv = await connectTestbed();
  dir = await mkdtemp(join(tmpdir(), "vwtest-cidata-"));
  const target = await mkdtemp(join(dir, "pool-"));
  ({ pool } = await lv.StoragePoolCreateXML({
    xml: dirPoolXml(uniqueName("cipool"), target),
    flags: 0,
  }));
  virtwire = await VirtwireEngine.start();
});

afterAll(async () => {
  await virtwire?.close();
  if (pool) await removePool(lv, pool);
  await lv?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("a CloudInitDisk through its lifecycle", () => {
  let first: { id: string; name: string };

  it("is created as a volume holding exactly the NoCloud seed image", async () => {
    const step = await virtwire.up("CloudInitDisk", "seed", { pool: pool.name, ...seed });
    const expected = buildNoCloudIso(seed);
    expect(step.step).toBe("create");
    expect(step.outputs).toMatchObject({
      name: expect.stringMatching(/^seed-[0-9a-f]{7}$/),
      pool: pool.name,
      size: expected.image.length,
      instanceId: expected.instanceId,
      userData: seed.userData,
    });
    expect(step.id).toBe(step.outputs.key);
    expect(await contentOf(step.id)).toEqual(expected.image);
    first = { id: step.id, name: step.outputs.name as string };
  });

  it("keeps the user-data secret in its outputs and never prints it", async () => {
    const entry = virtwire.engine.resource(virtwire.urn("CloudInitDisk", "seed"));
    expect(isSecret(entry.outputs.userData)).toBe(true);
    expect(isSecret(entry.outputs.metaData)).toBe(false);
    await virtwire.plugin.quiet();
    expect(virtwire.plugin.output).not.toContain("hunter2");
  });

  it("given as a secret, keeps the user-data out of the state file altogether", async () => {
    const step = await virtwire.up("CloudInitDisk", "secretseed", {
      pool: pool.name,
      ...seed,
      userData: secret(seed.userData),
    });
    expect(step.outputs.userData).toBe(seed.userData);
    const entry = virtwire.engine.resource(virtwire.urn("CloudInitDisk", "secretseed"));
    expect(isSecret(entry.inputs.userData) && isSecret(entry.outputs.userData)).toBe(true);
    const urn = virtwire.urn("CloudInitDisk", "secretseed");
    const stored = virtwire.engine.state.resources.find((resource) => resource.urn === urn);
    expect(JSON.stringify(stored)).not.toContain("hunter2");
    await virtwire.destroy("secretseed");
  });

  it("reads back the same state, and the same data changes nothing", async () => {
    expect(await virtwire.refresh("seed")).toBe("same");
    const step = await virtwire.up("CloudInitDisk", "seed", { pool: pool.name, ...seed });
    expect(step).toMatchObject({ step: "same", id: first.id });
  });

  it("is replaced create-first under a new name when the data changes", async () => {
    const changed = { ...seed, userData: seed.userData.replace("hunter2", "correct horse") };
    const step = await virtwire.up("CloudInitDisk", "seed", { pool: pool.name, ...changed });
    expect(step.step).toBe("replace");
    expect(step.diff).toMatchObject({ deleteBeforeReplace: false });
    expect(step.diff!.replaces).toEqual(expect.arrayContaining(["userData", "name"]));
    expect(step.calls).toEqual(["check", "diff", "check", "create", "delete"]);
    expect(step.outputs.name).not.toBe(first.name);
    expect(step.outputs.instanceId).toBe(buildNoCloudIso(changed).instanceId);
    expect(await contentOf(step.id)).toEqual(buildNoCloudIso(changed).image);
    expect(await volumeNames()).toEqual([step.outputs.name]);
  });

  it("is reported gone when deleted outside Pulumi, and created again by the next up", async () => {
    const { vol } = await lv.StorageVolLookupByKey({ key: virtwire.id("seed") });
    await lv.StorageVolDelete({ vol, flags: 0 });
    expect(await virtwire.refresh("seed")).toBe("deleted");
    const step = await virtwire.up("CloudInitDisk", "seed", { pool: pool.name, ...seed });
    expect(step.step).toBe("create");
    expect(step.outputs.name).toBe(first.name);
  });

  it("is deleted, and deleting it again succeeds", async () => {
    const { urn, id, inputs, outputs } = virtwire.engine.resource(
      virtwire.urn("CloudInitDisk", "seed"),
    );
    await virtwire.destroy("seed");
    expect(await volumeNames()).toEqual([]);
    await expect(virtwire.deleteAgain(urn, id, inputs, outputs)).resolves.toBeUndefined();
  });
});

describe("a CloudInitDisk with a fixed name", () => {
  it("is replaced delete-first when the data changes, without a 'volume exists' error", async () => {
    const name = `${uniqueName("seed")}.iso`;
    await virtwire.up("CloudInitDisk", "fixed", { pool: pool.name, name, ...seed });
    const step = await virtwire.up("CloudInitDisk", "fixed", {
      pool: pool.name,
      name,
      ...seed,
      metaData: "local-hostname: other\n",
    });
    expect(step.calls).toEqual(["check", "diff", "check", "delete", "create"]);
    expect(step.outputs.name).toBe(name);
    expect(await volumeNames()).toEqual([name]);
    await virtwire.destroy("fixed");
  });

  it("fails with what to do when the name is taken by a volume Pulumi does not manage", async () => {
    const name = `${uniqueName("taken")}.iso`;
    await lv.StorageVolCreateXML({
      pool,
      xml: `<volume><name>${name}</name><capacity>1024</capacity></volume>`,
      flags: 0,
    });
    await expect(
      virtwire.up("CloudInitDisk", "taken", { pool: pool.name, name, ...seed }),
    ).rejects.toThrow(`a volume named "${name}" already exists in storage pool ${pool.name}`);
  });
});
