/**
 * The volume a get names (Volume.get, CloudInitDisk.get). A volume's resource id is its key (its
 * path, in dir pools), but users also know it by its path, as `<pool>/<name>`, or by its name.
 * Names are unique within a pool only, so a name alone is looked up in the pool the program gives
 * (`state.pool`), else in every running pool, and refused, naming the pools, when several have it.
 * libvirt allows no `/` in pool or volume names, so `<pool>/<name>` cannot be misread. A name
 * not found in a dir pool is looked for again after a refresh of the pool (by-name.ts).
 */
import { ConnectListAllStoragePoolsFlags, Libvirt, RemoteNonnullStorageVol } from "../../rpc";
import { unlessNotFound } from "../kit/not-found";
import { NotFoundError } from "../kit/get";
import { volumeInPool } from "./by-name";

/** What a volume id may be, for messages. */
export const VOLUME_IDS = "key, path, <pool>/<name> or name";
const VOLUMES_HINT = " (virsh vol-list <pool> lists the volumes of a pool)";

/** The volume `id` names; throws a NotFoundError when none, and an Error when several. */
export async function findVolumeForGet(
  lv: Libvirt,
  id: string,
  noun: string,
  pool?: string,
): Promise<RemoteNonnullStorageVol> {
  const found =
    (await unlessNotFound(() => lv.StorageVolLookupByKey({ key: id }))) ??
    (id.startsWith("/")
      ? await unlessNotFound(() => lv.StorageVolLookupByPath({ path: id }))
      : undefined);
  if (found) return found.vol;
  const slash = id.indexOf("/");
  if (slash > 0) {
    const vol = await volumeInPool(lv, id.slice(0, slash), id.slice(slash + 1));
    if (vol) return vol;
  } else if (slash < 0) {
    const vols = pool ? [await volumeInPool(lv, pool, id)] : await inRunningPools(lv, id);
    const named = vols.filter((vol) => vol !== undefined);
    if (named.length === 1) return named[0]!;
    if (named.length > 1) {
      const pools = named.map((vol) => vol.pool).sort();
      throw new Error(
        `${named.length} storage pools have a ${noun} named ${JSON.stringify(id)} (${pools.join(", ")}): give its key or path, or ${pools.map((p) => JSON.stringify(`${p}/${id}`)).join(" or ")}`,
      );
    }
  }
  const where = pool && slash < 0 ? ` in storage pool ${JSON.stringify(pool)}` : "";
  throw new NotFoundError(noun, id, VOLUME_IDS, `${where}${VOLUMES_HINT}`);
}

/** The volume called `name` in each running pool that has one (a stopped pool lists none). */
async function inRunningPools(
  lv: Libvirt,
  name: string,
): Promise<(RemoteNonnullStorageVol | undefined)[]> {
  const { pools } = await lv.ConnectListAllStoragePools({
    need_results: 1,
    flags: ConnectListAllStoragePoolsFlags.ACTIVE,
  });
  return Promise.all(pools.map((pool) => volumeInPool(lv, pool.name, name)));
}
