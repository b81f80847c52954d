/**
 * A volume looked up by pool and name. libvirt lists what is in a pool as it last looked: a file
 * copied into a dir pool's directory behind its back (an image put there by hand, by scp or by
 * another tool) is unknown to it until the pool is refreshed. So a name not found in a dir pool is
 * looked for once more after a refresh (STORAGE_POOL_REFRESH, dir pools only: pool/look-again.ts),
 * which users expect when they name a file they can see in the directory.
 */
import type { Libvirt, RemoteNonnullStorageVol } from "../../rpc";
import { unlessNotFound } from "../kit/not-found";
import { lookAgainIfDir } from "../pool/look-again";

/** The volume `name` in pool `poolName`, or undefined when the pool or the volume is not there. */
export async function volumeInPool(
  lv: Libvirt,
  poolName: string,
  name: string,
): Promise<RemoteNonnullStorageVol | undefined> {
  const found = await unlessNotFound(() => lv.StoragePoolLookupByName({ name: poolName }));
  if (!found) return undefined;
  const lookup = () => unlessNotFound(() => lv.StorageVolLookupByName({ pool: found.pool, name }));
  const vol = await lookup();
  if (vol) return vol.vol;
  if (!(await lv.StoragePoolIsActive({ pool: found.pool })).active) return undefined;
  await lookAgainIfDir(lv, found.pool);
  return (await lookup())?.vol;
}
