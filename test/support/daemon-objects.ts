/**
 * Every domain, pool and volume of a daemon by the id a virtwire resource has for it (a UUID, a
 * volume's key), compared with the ids in a stack's state: what fault tests check at the end.
 */
import { formatUuid, Libvirt } from "../../rpc";

/** The daemon's objects: id → "domain vm1-1a2b3c4", "pool …", "volume …". */
export async function daemonObjects(uri: string): Promise<Map<string, string>> {
  const lv = await Libvirt.connect(uri);
  try {
    const live = new Map<string, string>();
    const { domains } = await lv.ConnectListAllDomains({ need_results: 1, flags: 0 });
    for (const dom of domains) live.set(formatUuid(dom.uuid), `domain ${dom.name}`);
    const { pools } = await lv.ConnectListAllStoragePools({ need_results: 1, flags: 0 });
    for (const pool of pools) {
      live.set(formatUuid(pool.uuid), `pool ${pool.name}`);
      await lv.StoragePoolRefresh({ pool, flags: 0 }).catch(() => undefined);
      const { vols } = await lv.StoragePoolListAllVolumes({ pool, need_results: 1, flags: 0 });
      for (const vol of vols) live.set(vol.key, `volume ${vol.name}`);
    }
    return live;
  } finally {
    await lv.close();
  }
}

/** Objects of the daemon not in the state, and ids of the state without an object. */
export async function mismatches(
  uri: string,
  stateIds: string[],
): Promise<{ notInState: string[]; notInDaemon: string[] }> {
  const live = await daemonObjects(uri);
  return {
    notInState: [...live].filter(([id]) => !stateIds.includes(id)).map(([, what]) => what),
    notInDaemon: stateIds.filter((id) => !live.has(id)),
  };
}
