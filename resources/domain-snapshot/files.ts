/**
 * Removing an external snapshot's files (overlays, memory file) once nothing uses them. Over RPC a
 * file can only be removed as a storage volume: one not yet known to its pool (libvirt made it
 * behind the pool's back) is found after a refresh of the running pools. A file in no pool is
 * reported for removal by hand; it holds no data the domain still needs. libvirt's own delete
 * (9.0 and later) removes the files itself; what it leaves in a pool is removed here too.
 */
import { ConnectListAllStoragePoolsFlags, isNotFound } from "../../rpc";
import type { Libvirt, RemoteNonnullStorageVol } from "../../rpc";
import type { ResourceContext } from "../kit/resource";

/**
 * Removes each file in `paths` that a pool holds; with `ctx`, warns about the others (after
 * libvirt's own delete there is none left to warn about: it removes the files itself).
 */
export async function removeFiles(
  lv: Libvirt,
  paths: string[],
  warnTo?: { ctx: ResourceContext; host: string | undefined },
): Promise<void> {
  let refreshed = false;
  for (const path of paths) {
    let vol = await volumeAt(lv, path);
    if (vol === undefined && !refreshed) {
      await refreshPools(lv);
      refreshed = true;
      vol = await volumeAt(lv, path);
    }
    if (vol === undefined) {
      warnTo?.ctx.warn(
        `virtwire: ${path} is in no storage pool, so it cannot be removed over libvirt; nothing uses it now: remove it on the host (${warnTo.ctx.virsh(warnTo.host)} pool-list shows the pools)`,
      );
      continue;
    }
    await lv.StorageVolDelete({ vol, flags: 0 }).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
  }
}

async function volumeAt(lv: Libvirt, path: string): Promise<RemoteNonnullStorageVol | undefined> {
  try {
    return (await lv.StorageVolLookupByPath({ path })).vol;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Refreshes every running pool, so that files made behind a pool's back become its volumes. */
async function refreshPools(lv: Libvirt): Promise<void> {
  const { pools } = await lv.ConnectListAllStoragePools({
    need_results: 1,
    flags: ConnectListAllStoragePoolsFlags.ACTIVE,
  });
  for (const pool of pools) {
    await lv.StoragePoolRefresh({ pool, flags: 0 }).catch(() => undefined);
  }
}
