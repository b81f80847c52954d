/**
 * Storage steps shared by Volume and CloudInitDisk: finding the pool a volume goes into, finding a
 * volume by key (telling "gone" from "its pool is stopped"), creating and filling one (a leftover
 * of the same resource under its name removed first, a message users can act on when the name is
 * somebody else's, and the half-made volume removed on failure; an upload cut short is known by
 * its mark, upload-mark.ts),
 * refreshing a pool while other volumes are being built, and deleting one that may be gone.
 */
import {
  ErrorCode,
  Libvirt,
  LibvirtError,
  RemoteNonnullStoragePool,
  RemoteNonnullStorageVol,
  hasErrorCode,
  isNoStoragePool,
  isNotFound,
} from "../../rpc";
import { unlessNotFound } from "../../provider/errors";
import { undoHalfMade } from "../../provider/leftovers";
import type { ResourceContext } from "../../provider/resource";
import { UploadMark, hasUploadMark } from "./upload-mark";

/** Where a volume resource lives: the host (a `virtwire:hosts` key) and the pool's name. */
export interface VolumePlace {
  host?: string;
  pool: string;
}

/** How long a pool refresh waits for other volumes being built in the pool. */
const REFRESH_PATIENCE_MS = 120_000;
const REFRESH_RETRY_MS = 250;

/** The running pool called `name`; a missing or stopped pool fails with what to do. */
export async function runningPool(lv: Libvirt, name: string): Promise<RemoteNonnullStoragePool> {
  let pool: RemoteNonnullStoragePool;
  try {
    ({ pool } = await lv.StoragePoolLookupByName({ name }));
  } catch (error) {
    if (isNoStoragePool(error)) {
      throw new Error(
        `storage pool ${JSON.stringify(name)} does not exist: create it first (a virtwire Pool) and pass its name`,
        { cause: error },
      );
    }
    throw error;
  }
  if (!(await lv.StoragePoolIsActive({ pool })).active) {
    throw new Error(
      `storage pool ${JSON.stringify(name)} is not running: start it (virsh pool-start ${name}) and try again`,
    );
  }
  return pool;
}

/**
 * The volume with this key, or undefined when it no longer exists. A volume whose pool is stopped
 * cannot be looked up either; that is an error, not a deletion.
 */
export async function findVolume(
  lv: Libvirt,
  key: string,
  poolName: string | undefined,
): Promise<RemoteNonnullStorageVol | undefined> {
  try {
    return (await lv.StorageVolLookupByKey({ key })).vol;
  } catch (error) {
    if (!isNotFound(error)) throw error;
    if (poolName !== undefined) await assertPoolNotStopped(lv, poolName, key);
    return undefined;
  }
}

/** The connection to the resource's host and its volume with key `id` (undefined: gone). */
export async function lookupVolume(
  id: string,
  place: VolumePlace,
  ctx: ResourceContext,
): Promise<{ lv: Libvirt; vol: RemoteNonnullStorageVol | undefined }> {
  const lv = await ctx.connect(place.host);
  return { lv, vol: await findVolume(lv, id, place.pool) };
}

/** As lookupVolume, for an update: the volume must still exist; `what` names it for the user. */
export async function existingVolume(
  id: string,
  place: VolumePlace,
  ctx: ResourceContext,
  what: string,
): Promise<{ lv: Libvirt; vol: RemoteNonnullStorageVol }> {
  const { lv, vol } = await lookupVolume(id, place, ctx);
  if (!vol) throw new Error(`${what} (${id}) no longer exists; run pulumi refresh`);
  return { lv, vol };
}

/** The delete handler: removes the volume with key `id`; one that is already gone is fine. */
export async function deleteVolumeByKey(
  id: string,
  place: VolumePlace,
  ctx: ResourceContext,
): Promise<void> {
  const { lv, vol } = await lookupVolume(id, place, ctx);
  if (vol) await deleteVolume(lv, vol);
}

async function assertPoolNotStopped(lv: Libvirt, name: string, key: string): Promise<void> {
  let pool: RemoteNonnullStoragePool;
  try {
    ({ pool } = await lv.StoragePoolLookupByName({ name }));
  } catch (error) {
    if (isNotFound(error)) return; // the pool is gone, and its volumes with it
    throw error;
  }
  if (!(await lv.StoragePoolIsActive({ pool })).active) {
    throw new Error(
      `storage pool ${name} is not running, so volume ${key} cannot be found: start the pool (virsh pool-start ${name}) and try again`,
    );
  }
}

/** A volume to create: its XML and name, and what its name says about whose it is. */
export interface NewVolume {
  xml: string;
  name: string;
  /** The host (a `virtwire:hosts` key), for the clean-up's connection. */
  host?: string;
  /**
   * virtwire derived the name from the resource's URN (provider/naming.ts), so a volume of that
   * name is this resource's: in a fresh create, the leftover of a failed earlier one.
   */
  derivedName: boolean;
  /** Added to the message when the name is taken. */
  hint?: string;
  /** The mark of the volume's upload, for one that is uploaded (upload-mark.ts). */
  mark?: UploadMark;
}

/**
 * Creates a volume from `volume.xml` and runs `fill` on it; when filling fails, the volume is
 * removed again (over a new connection if the create's died) before the error goes on.
 */
export async function createFilledVolume<T>(
  lv: Libvirt,
  pool: RemoteNonnullStoragePool,
  volume: NewVolume,
  ctx: ResourceContext,
  fill: (vol: RemoteNonnullStorageVol) => Promise<T>,
): Promise<T> {
  const vol = await createVolume(lv, pool, volume, ctx);
  try {
    return await fill(vol);
  } catch (error) {
    const object = {
      host: volume.host,
      what: `volume ${vol.name} in storage pool ${vol.pool}, perhaps half-written`,
      // The next fresh create knows it by its derived name, or by the mark of its upload.
      marked: volume.derivedName || volume.mark?.present === true,
      byHand: `virsh vol-delete ${vol.name} --pool ${vol.pool}`,
    };
    throw await undoHalfMade(ctx, error, object, (again) => deleteVolume(again, vol));
  }
}

/**
 * STORAGE_VOL_CREATE_XML. When the name is taken, in a fresh create, by this resource's leftover
 * (its derived name, or the mark of an upload of this resource cut short: upload-mark.ts), that
 * volume is deleted and the volume created again; any other volume of that name fails the create,
 * untouched, saying how to go on.
 */
async function createVolume(
  lv: Libvirt,
  pool: RemoteNonnullStoragePool,
  volume: NewVolume,
  ctx: ResourceContext,
): Promise<RemoteNonnullStorageVol> {
  const { xml, name } = volume;
  try {
    return (await lv.StorageVolCreateXML({ pool, xml, flags: 0 })).vol;
  } catch (error) {
    if (!hasErrorCode(error, ErrorCode.STORAGE_VOL_EXIST)) throw error;
    const left = ctx.owner?.fresh ? await ownLeftover(lv, pool, volume, ctx.owner.urn) : undefined;
    if (left) {
      await deleteVolume(lv, left.vol);
      ctx.log(`virtwire: volume ${name} in storage pool ${pool.name}: removed, ${left.why}`);
      return (await lv.StorageVolCreateXML({ pool, xml, flags: 0 })).vol;
    }
    throw new Error(
      `a volume named ${JSON.stringify(name)} already exists in storage pool ${pool.name}${volume.hint ?? ""}, and nothing shows virtwire made it for this resource; nothing was changed. If it is left from an earlier run of this program (one cut short after its upload had finished), remove it with virsh vol-delete ${name} --pool ${pool.name} and run pulumi up again; if it is yours, give this resource another name`,
      { cause: error },
    );
  }
}

/** The volume of that name when it is this resource's leftover, with why it is. */
async function ownLeftover(
  lv: Libvirt,
  pool: RemoteNonnullStoragePool,
  volume: NewVolume,
  urn: string,
): Promise<{ vol: RemoteNonnullStorageVol; why: string } | undefined> {
  const found = await unlessNotFound(() => lv.StorageVolLookupByName({ pool, name: volume.name }));
  if (!found) return undefined;
  if (volume.derivedName) {
    return { vol: found.vol, why: "left by a failed earlier create of this resource" };
  }
  if (await hasUploadMark(lv, found.vol, urn)) {
    return { vol: found.vol, why: "left half-written by an upload of this resource cut short" };
  }
  return undefined;
}

/**
 * STORAGE_POOL_REFRESH: makes libvirt read a volume's content again (its format and, for qcow2,
 * its virtual size) after an upload. libvirt refuses while another volume of the pool is being
 * built ("pool has asynchronous jobs running"), which parallel creates in one pool cause; retried.
 */
export async function refreshPool(
  lv: Libvirt,
  pool: RemoteNonnullStoragePool,
  sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<void> {
  const deadline = Date.now() + REFRESH_PATIENCE_MS;
  for (;;) {
    try {
      await lv.StoragePoolRefresh({ pool, flags: 0 });
      return;
    } catch (error) {
      // libvirt 9.0 reports it as VIR_ERR_INTERNAL_ERROR; only the message tells.
      const busy = error instanceof LibvirtError && /asynchronous jobs/.test(error.message);
      if (!busy || Date.now() > deadline) throw error;
      await sleep(REFRESH_RETRY_MS);
    }
  }
}

/**
 * Deletes a volume; one that is already gone is not an error. A volume whose file was deleted
 * behind libvirt's back stays listed (and its name taken) until the pool is refreshed.
 */
async function deleteVolume(lv: Libvirt, vol: RemoteNonnullStorageVol): Promise<void> {
  try {
    await lv.StorageVolDelete({ vol, flags: 0 });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    const pool = await unlessNotFound(() => lv.StoragePoolLookupByName({ name: vol.pool }));
    if (pool) await lv.StoragePoolRefresh({ pool: pool.pool, flags: 0 }).catch(() => undefined);
  }
}
