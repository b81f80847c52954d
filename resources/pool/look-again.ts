/**
 * Making libvirt look at a pool's storage again, to notice files deleted behind its back (libvirt
 * lists a volume whose file is gone until its pool is refreshed).
 */
import type { Libvirt, RemoteNonnullStoragePool } from "../../rpc";
import { attr, parseXml } from "../kit/xml";

/**
 * STORAGE_POOL_REFRESH, for dir pools only: libvirt stops a pool whose refresh fails, and a
 * network or disk pool can fail for a passing reason, taking storage that guests use with it. A dir
 * pool's refresh fails when its directory is gone; the pool stops then, which the caller sees and
 * `pulumi up` mends (it builds and starts the pool again), so that failure is not an error here.
 */
export async function lookAgainIfDir(lv: Libvirt, pool: RemoteNonnullStoragePool): Promise<void> {
  const { xml } = await lv.StoragePoolGetXMLDesc({ pool, flags: 0 });
  if (attr(parseXml(xml, "pool"), "type") !== "dir") return;
  await lv.StoragePoolRefresh({ pool, flags: 0 }).catch(() => undefined);
}
