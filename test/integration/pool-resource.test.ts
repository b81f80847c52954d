// The Pool resource through the real dynamic-provider plugin, against the test bed daemon.
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

beforeAll(async () => {
  virtwire = await VirtwireEngine.start();
  lv = await connectTestbed();
});

beforeEach(() => {
  virtwire.reset();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "vwtest-pool-"));
});

afterEach(async () => {
  await virtwire.engine.destroy().catch(() => undefined);
  fs.rmSync(dir, { recursive: true, force: true });
});

afterAll(async () => {
  await virtwire?.close();
  await lv?.close();
});

const pool = (args: Record<string, unknown>) => ({ type: "dir", ...args }) as PropertyMap;

async function poolState(id: string) {
  const { pool: found } = await lv.StoragePoolLookupByUUID({ uuid: parseUuid(id) });
  const [{ active }, { autostart }] = await Promise.all([
    lv.StoragePoolIsActive({ pool: found }),
    lv.StoragePoolGetAutostart({ pool: found }),
  ]);
  return { name: found.name, active: active === 1, autostart: autostart === 1 };
}

describe("a Pool", () => {
  it("is created built, started and autostarted, with an auto-name and its sizes", async () => {
    const target = path.join(dir, "images");
    const created = await virtwire.up("Pool", "images", pool({ targetPath: target }));
    expect(created.step).toBe("create");
    expect(created.outputs.name).toMatch(/^images-[0-9a-f]{7}$/);
    expect(created.outputs).toMatchObject({ active: true, autostart: true, uuid: created.id });
    expect(created.outputs.capacity).toBeGreaterThan(0);
    expect(fs.statSync(target).isDirectory()).toBe(true);
    await expect(poolState(created.id)).resolves.toEqual({
      name: created.outputs.name,
      active: true,
      autostart: true,
    });
  });

  it("shows no change when nothing changed, even after a refresh", async () => {
    await virtwire.up("Pool", "images", pool({ targetPath: path.join(dir, "a") }));
    await virtwire.refresh("images");
    const again = await virtwire.up("Pool", "images", pool({ targetPath: path.join(dir, "a") }));
    expect(again.step).toBe("same");
  });

  // Found by generated inputs (seed 81885205, Pool case 0): libvirt keeps the path sanitized, and
  // every up replaced the pool.
  it("keeps a target path with a doubled or trailing slash as written: no change on the next up", async () => {
    const targetPath = `${dir}//s\\j@O#/`;
    const created = await virtwire.up("Pool", "images", pool({ targetPath }));
    expect(created.outputs.targetPath).toBe(targetPath);
    await virtwire.refresh("images");
    expect(virtwire.outputs("images").targetPath).toBe(targetPath);
    expect((await virtwire.up("Pool", "images", pool({ targetPath }))).step).toBe("same");
    expect(fs.statSync(path.join(dir, "s\\j@O#")).isDirectory()).toBe(true);
  });

  // Found by generated inputs (seed 81885205, Pool case 0): the path read back as `-8&gt;|MHM6`.
  it("reads a target path with XML's special characters back as given", async () => {
    const targetPath = path.join(dir, `-8>|MHM6 &<"'`);
    const created = await virtwire.up("Pool", "images", pool({ targetPath }));
    expect(created.outputs.targetPath).toBe(targetPath);
    expect((await virtwire.up("Pool", "images", pool({ targetPath }))).step).toBe("same");
  });

  // Found by generated inputs (seeds 473820769 and 81885205, Pool case 2): libvirt prints an
  // owner past 2^31 - 1 as a negative int, and a mode with four digits.
  it("reads permissions back as given: an owner past 2^31 - 1, a mode of three digits", async () => {
    const args = pool({
      targetPath: path.join(dir, "a"),
      permissions: { mode: "022", owner: 4294967291, group: 4294967292 },
    });
    const created = await virtwire.up("Pool", "images", args);
    expect(created.outputs.permissions).toEqual(args.permissions);
    expect(fs.statSync(path.join(dir, "a")).uid).toBe(4294967291);
    expect((await virtwire.up("Pool", "images", args)).step).toBe("same");
  });

  // Found by generated inputs (seed 81885205, Pool case 2): libvirt builds only a stopped pool.
  it("changes the permissions of its running pool's directory in place", async () => {
    const target = path.join(dir, "a");
    const created = await virtwire.up("Pool", "images", pool({ targetPath: target }));
    const changed = pool({ targetPath: target, permissions: { mode: "0710", owner: 1 } });
    const updated = await virtwire.up("Pool", "images", changed);
    expect(updated).toMatchObject({ step: "update", id: created.id });
    expect(fs.statSync(target).mode & 0o777).toBe(0o710);
    expect(fs.statSync(target).uid).toBe(1);
    await expect(poolState(created.id)).resolves.toMatchObject({ active: true });
    expect((await virtwire.up("Pool", "images", changed)).step).toBe("same");
  });

  // Found by generated inputs (seed 1237546666, Pool case 0): the new pool was made first, and
  // libvirt refused a second pool on the same directory.
  it("is replaced old pool first when its name changes and its target path stays", async () => {
    const targetPath = path.join(dir, "a");
    const named = await virtwire.up(
      "Pool",
      "images",
      pool({ targetPath, name: `vwtest-${path.basename(dir)}` }),
    );
    const renamed = await virtwire.up("Pool", "images", pool({ targetPath }));
    expect(renamed.step).toBe("replace");
    expect(renamed.diff?.deleteBeforeReplace).toBe(true);
    expect(renamed.outputs.name).not.toBe(named.outputs.name);
    await expect(poolState(renamed.id)).resolves.toMatchObject({ active: true });
  });

  it("turns autostart off in place", async () => {
    const created = await virtwire.up("Pool", "images", pool({ targetPath: path.join(dir, "a") }));
    const updated = await virtwire.up(
      "Pool",
      "images",
      pool({ targetPath: path.join(dir, "a"), autostart: false }),
    );
    expect(updated).toMatchObject({ step: "update", id: created.id });
    await expect(poolState(created.id)).resolves.toMatchObject({ autostart: false, active: true });
  });

  it("is replaced when its target path changes, keeping the old directory", async () => {
    const created = await virtwire.up("Pool", "images", pool({ targetPath: path.join(dir, "a") }));
    const replaced = await virtwire.up("Pool", "images", pool({ targetPath: path.join(dir, "b") }));
    expect(replaced.step).toBe("replace");
    expect(replaced.diff?.replaces).toEqual(["targetPath"]);
    expect(replaced.id).not.toBe(created.id);
    expect(fs.existsSync(path.join(dir, "a"))).toBe(true);
    await expect(lv.StoragePoolLookupByUUID({ uuid: parseUuid(created.id) })).rejects.toThrow(
      /no storage pool/i,
    );
  });

  it("is found stopped by refresh and started again by the next up", async () => {
    const created = await virtwire.up("Pool", "images", pool({ targetPath: path.join(dir, "a") }));
    const { pool: found } = await lv.StoragePoolLookupByUUID({ uuid: parseUuid(created.id) });
    await lv.StoragePoolDestroy({ pool: found });
    await virtwire.refresh("images");
    const fixed = await virtwire.up("Pool", "images", pool({ targetPath: path.join(dir, "a") }));
    expect(fixed.step).toBe("update");
    await expect(poolState(created.id)).resolves.toMatchObject({ active: true });
  });

  it("is dropped from the state by refresh when deleted outside Pulumi, and made again by up", async () => {
    const created = await virtwire.up("Pool", "images", pool({ targetPath: path.join(dir, "a") }));
    const { pool: found } = await lv.StoragePoolLookupByUUID({ uuid: parseUuid(created.id) });
    await lv.StoragePoolDestroy({ pool: found });
    await lv.StoragePoolUndefine({ pool: found });
    await virtwire.refresh("images");
    expect(virtwire.engine.stateJson()).not.toContain(created.id);
    const again = await virtwire.up("Pool", "images", pool({ targetPath: path.join(dir, "a") }));
    expect(again.step).toBe("create");
  });

  it("is deleted without its directory by default, and deleting it twice is fine", async () => {
    const target = path.join(dir, "keep");
    const created = await virtwire.up("Pool", "images", pool({ targetPath: target }));
    fs.writeFileSync(path.join(target, "data.img"), "precious");
    await virtwire.destroy("images");
    expect(fs.readFileSync(path.join(target, "data.img"), "utf8")).toBe("precious");
    await expect(lv.StoragePoolLookupByUUID({ uuid: parseUuid(created.id) })).rejects.toThrow();
    // The engine retries a delete whose first attempt it did not see finish: already gone is fine.
    const urn = virtwire.urn("Pool", "images");
    await expect(
      virtwire.deleteAgain(urn, created.id, created.outputs, created.outputs),
    ).resolves.toBeUndefined();
  });

  it("deletes its empty directory when asked to", async () => {
    const target = path.join(dir, "gone");
    await virtwire.up("Pool", "images", pool({ targetPath: target, deleteTargetOnDestroy: true }));
    await virtwire.destroy("images");
    expect(fs.existsSync(target)).toBe(false);
  });

  it("refuses bad inputs at check with the property and the fix, touching nothing", async () => {
    const error = await virtwire
      .up("Pool", "images", pool({ type: "dri", targetPath: "relative" }))
      .catch((e: Error) => e);
    expect(String(error)).toContain(
      'has a problem: type must be one of "dir", "fs", "netfs", "logical", "disk", "iscsi"; got "dri" (did you mean "dir"?)',
    );
    expect(String(error)).toContain('targetPath "relative" is not valid: use an absolute path');
  });
});
