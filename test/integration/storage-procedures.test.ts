import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ErrorCode,
  Libvirt,
  RemoteNonnullStoragePool,
  RemoteNonnullStorageVol,
  isNoStoragePool,
  isNoStorageVol,
  isNotFound,
  parseUuid,
} from "../../rpc/internal";
import {
  ConnectListAllStoragePoolsFlags as ListFlags,
  StoragePoolBuildFlags,
  StoragePoolState,
  StorageVolInfoFlags,
  StorageVolType,
  StorageVolWipeAlgorithm,
} from "../../rpc/protocol/remote";
import { rejection } from "../support/promises";
import { connectTestbed, dirPoolXml, uniqueName } from "../support/testbed";

const MiB = 1024n * 1024n;

const rawVolumeXml = (name: string, mib: number) =>
  `<volume><name>${name}</name><capacity unit='MiB'>${mib}</capacity>` +
  `<target><format type='raw'/></target></volume>`;

describe("the storage procedures against the test bed daemon", () => {
  let lv: Libvirt;
  let scratch: string;
  const poolName = uniqueName("pool");
  let poolPath: string;
  let pool: RemoteNonnullStoragePool;
  let vol: RemoteNonnullStorageVol;
  let volPath: string;

  beforeAll(async () => {
    lv = await connectTestbed();
    scratch = await mkdtemp(join(tmpdir(), "vwtest-storage-"));
    poolPath = join(scratch, "pool");
  });

  afterAll(async () => {
    const found = await lv.StoragePoolLookupByName({ name: poolName }).catch(() => null);
    if (found) {
      const { vols } = await lv
        .StoragePoolListAllVolumes({ ...found, need_results: 1, flags: 0 })
        .catch(() => ({ vols: [] }));
      for (const each of vols) await lv.StorageVolDelete({ vol: each, flags: 0 }).catch(() => 0);
      await lv.StoragePoolDestroy(found).catch(() => undefined);
      await lv.StoragePoolUndefine(found).catch(() => undefined);
    }
    await rm(scratch, { recursive: true, force: true });
    await lv?.close();
  });

  describe("a persistent dir pool", () => {
    it("is defined, built and started", async () => {
      ({ pool } = await lv.StoragePoolDefineXML({ xml: dirPoolXml(poolName, poolPath), flags: 0 }));
      await expect(lv.StoragePoolIsActive({ pool })).resolves.toEqual({ active: 0 });
      await lv.StoragePoolBuild({ pool, flags: StoragePoolBuildFlags.NEW });
      expect((await stat(poolPath)).isDirectory()).toBe(true);
      await lv.StoragePoolCreate({ pool, flags: 0 });
      await expect(lv.StoragePoolIsActive({ pool })).resolves.toEqual({ active: 1 });
      await expect(lv.StoragePoolIsPersistent({ pool })).resolves.toEqual({ persistent: 1 });
    });

    it("is found by name, UUID and target path", async () => {
      await expect(lv.StoragePoolLookupByName({ name: poolName })).resolves.toEqual({ pool });
      await expect(lv.StoragePoolLookupByUUID({ uuid: pool.uuid })).resolves.toEqual({ pool });
      await expect(lv.StoragePoolLookupByTargetPath({ path: poolPath })).resolves.toEqual({ pool });
    });

    it("reports itself running, with its size, XML and autostart setting", async () => {
      const info = await lv.StoragePoolGetInfo({ pool });
      expect(info.state).toBe(StoragePoolState.RUNNING);
      expect(info.capacity).toBeGreaterThan(0n);
      expect(info.available).toBeLessThanOrEqual(info.capacity);
      const { xml } = await lv.StoragePoolGetXMLDesc({ pool, flags: 0 });
      expect(xml).toContain(`<path>${poolPath}</path>`);
      await lv.StoragePoolSetAutostart({ pool, autostart: 1 });
      await expect(lv.StoragePoolGetAutostart({ pool })).resolves.toEqual({ autostart: 1 });
      await lv.StoragePoolSetAutostart({ pool, autostart: 0 });
      await expect(lv.StoragePoolGetAutostart({ pool })).resolves.toEqual({ autostart: 0 });
    });

    it("is listed among the active persistent dir pools", async () => {
      const flags = ListFlags.ACTIVE | ListFlags.PERSISTENT | ListFlags.DIR;
      const { pools, ret } = await lv.ConnectListAllStoragePools({ need_results: 1, flags });
      expect(ret).toBe(pools.length);
      expect(pools).toContainEqual(pool);
    });

    it("creates a raw volume and finds it by name, key and path", async () => {
      ({ vol } = await lv.StorageVolCreateXML({ pool, xml: rawVolumeXml("a.img", 4), flags: 0 }));
      expect(vol).toMatchObject({ pool: poolName, name: "a.img" });
      ({ name: volPath } = await lv.StorageVolGetPath({ vol }));
      expect(volPath).toBe(join(poolPath, "a.img"));
      await expect(lv.StorageVolLookupByName({ pool, name: "a.img" })).resolves.toEqual({ vol });
      await expect(lv.StorageVolLookupByKey({ key: vol.key })).resolves.toEqual({ vol });
      await expect(lv.StorageVolLookupByPath({ path: volPath })).resolves.toEqual({ vol });
      await expect(lv.StoragePoolLookupByVolume({ vol })).resolves.toEqual({ pool });
    });

    it("reports the volume's type, capacity and XML", async () => {
      const info = await lv.StorageVolGetInfo({ vol });
      expect(info).toMatchObject({ type: StorageVolType.FILE, capacity: 4n * MiB });
      const physical = await lv.StorageVolGetInfoFlags({
        vol,
        flags: StorageVolInfoFlags.GET_PHYSICAL,
      });
      expect(physical).toMatchObject({ type: StorageVolType.FILE, capacity: 4n * MiB });
      const { xml } = await lv.StorageVolGetXMLDesc({ vol, flags: 0 });
      expect(xml).toContain("<name>a.img</name>");
      expect(xml).toContain(`<path>${volPath}</path>`);
    });

    it("resizes the volume and wipes it, plainly and with a pattern", async () => {
      await lv.StorageVolResize({ vol, capacity: 8n * MiB, flags: 0 });
      expect((await lv.StorageVolGetInfo({ vol })).capacity).toBe(8n * MiB);
      expect((await stat(volPath)).size).toBe(Number(8n * MiB));
      await lv.StorageVolWipe({ vol, flags: 0 });
      await lv.StorageVolWipePattern({ vol, algorithm: StorageVolWipeAlgorithm.ZERO, flags: 0 });
    });

    it("clones the volume on the server", async () => {
      const { vol: clone } = await lv.StorageVolCreateXMLFrom({
        pool,
        xml: rawVolumeXml("b.img", 8),
        clonevol: vol,
        flags: 0,
      });
      expect(clone.name).toBe("b.img");
      expect((await lv.StorageVolGetInfo({ vol: clone })).capacity).toBe(8n * MiB);
    });

    it("lists and counts its volumes, and sees new files after a refresh", async () => {
      const { vols, ret } = await lv.StoragePoolListAllVolumes({ pool, need_results: 1, flags: 0 });
      expect(ret).toBe(2);
      expect(vols.map((each) => each.name).sort()).toEqual(["a.img", "b.img"]);
      await writeFile(join(poolPath, "c.img"), Buffer.alloc(4096));
      await expect(lv.StoragePoolNumOfVolumes({ pool })).resolves.toEqual({ num: 2 });
      await lv.StoragePoolRefresh({ pool, flags: 0 });
      await expect(lv.StoragePoolNumOfVolumes({ pool })).resolves.toEqual({ num: 3 });
    });

    it("deletes a volume, which then is not found", async () => {
      await lv.StorageVolDelete({ vol, flags: 0 });
      const error = await rejection(lv.StorageVolLookupByName({ pool, name: "a.img" }));
      expect(isNoStorageVol(error)).toBe(true);
      expect(isNotFound(await rejection(lv.StorageVolLookupByPath({ path: volPath })))).toBe(true);
    });

    it("stops, deletes its directory, is undefined and then not found", async () => {
      const { vols } = await lv.StoragePoolListAllVolumes({ pool, need_results: 1, flags: 0 });
      for (const each of vols) await lv.StorageVolDelete({ vol: each, flags: 0 });
      await lv.StoragePoolDestroy({ pool });
      await expect(lv.StoragePoolIsActive({ pool })).resolves.toEqual({ active: 0 });
      await lv.StoragePoolDelete({ pool, flags: 0 });
      await expect(stat(poolPath)).rejects.toThrow(/ENOENT/);
      await lv.StoragePoolUndefine({ pool });
      expect(isNoStoragePool(await rejection(lv.StoragePoolLookupByName({ name: poolName })))).toBe(
        true,
      );
    });
  });

  it("starts a transient pool on an existing directory, which disappears when stopped", async () => {
    const { pool: transient } = await lv.StoragePoolCreateXML({
      xml: dirPoolXml(uniqueName("transient"), scratch),
      flags: 0,
    });
    await expect(lv.StoragePoolIsPersistent({ pool: transient })).resolves.toEqual({
      persistent: 0,
    });
    await lv.StoragePoolDestroy({ pool: transient });
    const error = await rejection(lv.StoragePoolLookupByUUID({ uuid: transient.uuid }));
    expect(isNoStoragePool(error)).toBe(true);
  });

  it("says that dir pools have no sources to discover", async () => {
    const error = await rejection(
      lv.ConnectFindStoragePoolSources({ type: "dir", srcSpec: null, flags: 0 }),
    );
    expect(error).toMatchObject({ code: ErrorCode.NO_SUPPORT });
  });

  it("maps missing pools and volumes to the typed not-found error", async () => {
    const uuid = parseUuid("00000000-0000-4000-8000-00000000beef");
    expect(isNoStoragePool(await rejection(lv.StoragePoolLookupByUUID({ uuid })))).toBe(true);
    const key = join(scratch, "missing.img");
    expect(isNoStorageVol(await rejection(lv.StorageVolLookupByKey({ key })))).toBe(true);
  });
});
