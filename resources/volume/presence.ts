/**
 * Whether a volume (of a Volume or a CloudInitDisk) still exists, for read and diff. libvirt keeps
 * listing a volume whose file was deleted behind its back until its pool is refreshed: the lookup
 * by key still succeeds and only the next call on it fails with NO_STORAGE_VOL. A pool whose
 * directory was deleted fails its refresh and stops. So:
 *
 *   read   a volume that fails NO_STORAGE_VOL at any step is gone, and its pool is refreshed (what
 *          `pulumi refresh` asks for), so libvirt forgets it and the name is free again; a volume
 *          in a stopped pool cannot be told and keeps its last state, since `up` starts the pool
 *   diff   asks the same without refreshing anything (diff runs in preview), so that the `up`
 *          after the pool was started again makes the volume again instead of keeping a ghost;
 *          the delete before that replacement refreshes the pool (storage.ts deleteVolume)
 */
import { Libvirt, RemoteNonnullStorageVol, isNotFound } from "../../rpc";
import type { DiffResult, ResourceContext } from "../kit/resource";
import { lookAgainIfDir } from "../pool/look-again";
import type { VolumePlace } from "./storage";

export type Presence =
  | { state: "present"; lv: Libvirt; vol: RemoteNonnullStorageVol }
  | { state: "gone" }
  | { state: "unknown"; why: string };

/** Looks the volume up by key and proves it with `probe`, the first call that needs its file. */
export async function volumePresence(
  id: string,
  place: VolumePlace,
  ctx: ResourceContext,
  refresh: boolean,
): Promise<Presence> {
  const lv = await ctx.connect(place.host);
  let vol: RemoteNonnullStorageVol;
  try {
    ({ vol } = await lv.StorageVolLookupByKey({ key: id }));
    await lv.StorageVolGetInfo({ vol });
    return { state: "present", lv, vol };
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  return poolSays(lv, place.pool, refresh);
}

/** After a NO_STORAGE_VOL: gone, unless the pool is stopped (then its volumes cannot be seen). */
async function poolSays(lv: Libvirt, name: string, refresh: boolean): Promise<Presence> {
  let pool;
  try {
    ({ pool } = await lv.StoragePoolLookupByName({ name }));
  } catch (error) {
    if (isNotFound(error)) return { state: "gone" };
    throw error;
  }
  if ((await lv.StoragePoolIsActive({ pool })).active) {
    // A deleted file stays listed until a refresh; afterwards the name can be used again. A
    // refresh that fails (the pool's directory is gone too) stops the pool, which `up` restarts.
    if (refresh) await lookAgainIfDir(lv, pool);
    if ((await lv.StoragePoolIsActive({ pool })).active) return { state: "gone" };
  }
  return {
    state: "unknown",
    why: `storage pool ${name} is not running, so its volumes cannot be seen; pulumi up starts it again`,
  };
}

/**
 * The read handler's answer: the outputs of `describe` for a present volume, undefined for a gone
 * one, and the last outputs (with a line saying why) when the pool is stopped.
 */
export async function readVolumeOrGone<T>(
  id: string,
  last: VolumePlace & T,
  ctx: ResourceContext,
  describe: (lv: Libvirt, vol: RemoteNonnullStorageVol) => Promise<T>,
): Promise<T | undefined> {
  const presence = await volumePresence(id, last, ctx, true);
  if (presence.state === "gone") return undefined;
  if (presence.state === "unknown") {
    ctx.log(`virtwire: volume ${id}: ${presence.why}`);
    return last;
  }
  try {
    return await describe(presence.lv, presence.vol);
  } catch (error) {
    // Deleted between the probe and the description.
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * For diff: a volume that no longer exists is replaced (delete first: there is nothing to keep,
 * and the delete frees its name in libvirt), with a line saying so. Asked only when nothing else
 * replaces it, and only with a connection (not in unit tests).
 */
export async function replaceIfMissing(
  result: DiffResult,
  id: string,
  place: VolumePlace,
  ctx: ResourceContext | undefined,
  what: string,
): Promise<DiffResult> {
  // A refresh's diff comes right after the read that found the volume.
  if (!ctx || ctx.refresh || result.replaces.length > 0) return result;
  if ((await volumePresence(id, place, ctx, false)).state !== "gone") return result;
  ctx.log(
    `virtwire: ${what} no longer exists in storage pool ${place.pool} (deleted outside Pulumi); it is made again`,
  );
  return { changes: true, replaces: ["key"], deleteBeforeReplace: true };
}
