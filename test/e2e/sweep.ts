/**
 * The last clean-up of an e2e test, after `pulumi destroy` (which may have failed or not run):
 * removes every domain, network and pool of the test bed's daemon whose name contains `marker`,
 * with the pool's volumes and directory, and says what it had to remove, so the test can fail
 * when the stack left anything behind.
 */
import * as fs from "node:fs";
import type { Libvirt } from "../../rpc";

export async function sweep(lv: Libvirt, marker: string, poolPath: string): Promise<string[]> {
  const left: string[] = [];
  const ignore = () => undefined;
  const { domains } = await lv.ConnectListAllDomains({ need_results: 1, flags: 0 });
  for (const dom of domains.filter((d) => d.name.includes(marker))) {
    left.push(`domain ${dom.name}`);
    await lv.DomainDestroy({ dom }).catch(ignore);
    await lv.DomainUndefineFlags({ dom, flags: 0 }).catch(ignore);
  }
  const { nets } = await lv.ConnectListAllNetworks({ need_results: 1, flags: 0 });
  for (const net of nets.filter((n) => n.name.includes(marker))) {
    left.push(`network ${net.name}`);
    await lv.NetworkDestroy({ net }).catch(ignore);
    await lv.NetworkUndefine({ net }).catch(ignore);
  }
  const { pools } = await lv.ConnectListAllStoragePools({ need_results: 1, flags: 0 });
  for (const pool of pools.filter((p) => p.name.includes(marker))) {
    left.push(`pool ${pool.name}`);
    const { vols } = await lv
      .StoragePoolListAllVolumes({ pool, need_results: 1, flags: 0 })
      .catch(() => ({ vols: [] }));
    for (const vol of vols) {
      left.push(`volume ${vol.key}`);
      await lv.StorageVolDelete({ vol, flags: 0 }).catch(ignore);
    }
    await lv.StoragePoolDestroy({ pool }).catch(ignore);
    await lv.StoragePoolDelete({ pool, flags: 0 }).catch(ignore);
    await lv.StoragePoolUndefine({ pool }).catch(ignore);
  }
  if (fs.existsSync(poolPath)) {
    left.push(`directory ${poolPath}`);
    fs.rmSync(poolPath, { recursive: true, force: true });
  }
  return left;
}
