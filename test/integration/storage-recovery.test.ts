/**
 * Storage deleted behind libvirt's back, through the real plugin against the test bed daemon: a
 * volume's file, then the pool's whole directory. After a refresh and one up (or one up alone),
 * libvirt and the state agree again: every volume in the state exists in libvirt with its file,
 * and libvirt's pool holds nothing the state does not know.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Libvirt, parseUuid } from "../../rpc";
import type { PropertyMap } from "../support/pulumi-wire";
import { connectTestbed } from "../support/testbed";
import { VirtwireEngine } from "../support/virtwire-engine";

let virtwire: VirtwireEngine;
let lv: Libvirt;
let dir: string;
let target: string;

beforeAll(async () => {
  virtwire = await VirtwireEngine.start();
  lv = await connectTestbed();
});

beforeEach(async () => {
  virtwire.reset();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "vwtest-storage-"));
  target = path.join(dir, "images");
  await upAll();
});

afterEach(async () => {
  await virtwire.engine.destroy().catch(() => undefined);
  fs.rmSync(dir, { recursive: true, force: true });
});

afterAll(async () => {
  await virtwire?.close();
  await lv?.close();
});

const VOLUMES = ["data", "seed"] as const;

/** The pool, an empty volume and a cloud-init disk in it, in dependency order as Pulumi runs them. */
async function upAll() {
  const pool = await virtwire.up("Pool", "images", { type: "dir", targetPath: target });
  const poolName = pool.outputs.name as string;
  const steps = [
    pool.step,
    (await virtwire.up("Volume", "data", { pool: poolName, capacity: "4MiB" })).step,
    (
      await virtwire.up("CloudInitDisk", "seed", {
        pool: poolName,
        userData: "#cloud-config\nhostname: vm1\n",
      } as PropertyMap)
    ).step,
  ];
  return steps;
}

const file = (name: (typeof VOLUMES)[number]) => virtwire.outputs(name).path as string;

/** Volume names in libvirt's pool after a refresh, and the volumes the state holds there. */
async function agreement() {
  const { pool } = await lv.StoragePoolLookupByUUID({ uuid: parseUuid(virtwire.id("images")) });
  expect((await lv.StoragePoolIsActive({ pool })).active).toBe(1);
  await lv.StoragePoolRefresh({ pool, flags: 0 });
  const { vols } = await lv.StoragePoolListAllVolumes({ pool, need_results: 1, flags: 0 });
  const inState = VOLUMES.map((name) => virtwire.outputs(name).name as string);
  return { libvirt: vols.map((vol) => vol.name).sort(), state: inState.sort() };
}

describe("storage deleted outside Pulumi", () => {
  it("a deleted volume file is found gone by refresh and made again by up", async () => {
    fs.unlinkSync(file("data"));
    expect(await virtwire.refresh("data")).toBe("deleted");
    expect(await virtwire.refresh("seed")).toBe("same");
    expect(await upAll()).toEqual(["same", "create", "same"]);
    expect(fs.existsSync(file("data"))).toBe(true);
    const { libvirt, state } = await agreement();
    expect(libvirt).toEqual(state);
  });

  it("a deleted volume file is made again by a plain up, without a refresh", async () => {
    fs.unlinkSync(file("seed"));
    const printed = virtwire.plugin.mark();
    expect(await upAll()).toEqual(["same", "same", "replace"]);
    expect(printed()).toMatch(/cloud-init disk seed-\w+ no longer exists in storage pool/);
    expect(fs.existsSync(file("seed"))).toBe(true);
    const { libvirt, state } = await agreement();
    expect(libvirt).toEqual(state);
  });

  it("a deleted pool directory is built and started again, and its volumes made again", async () => {
    fs.rmSync(target, { recursive: true });
    for (const name of ["images", ...VOLUMES]) await virtwire.refresh(name);
    expect(virtwire.outputs("images").active).toBe(false);
    const [pool, ...volumes] = await upAll();
    expect(pool).toBe("update");
    for (const step of volumes) expect(["create", "replace"]).toContain(step);
    for (const name of VOLUMES) expect(fs.existsSync(file(name))).toBe(true);
    const { libvirt, state } = await agreement();
    expect(libvirt).toEqual(state);
    expect(await upAll()).toEqual(["same", "same", "same"]);
  });
});
