/**
 * The last clean-up of a run, after the tool's own destroy (which may have failed or never run):
 * removes what this run made and nothing else. A run's marker (`vwtest-bench-<hex>-<round>-<tool>`)
 * is in everything it made: Terraform's names start with it; for virtwire it is the stack name,
 * so it is in each domain's and network's ownership mark (the URN in `<metadata>`), and the pool's
 * target path (`lab:poolPath`) has it. Returns what it had to remove, so the run can say so.
 */
import * as fs from "node:fs";
import type { Libvirt } from "../../rpc";

export async function sweepRun(lv: Libvirt, marker: string, poolPath: string): Promise<string[]> {
  const left: string[] = [];
  const ignore = () => undefined;
  const ours = async (name: string, xml: () => Promise<{ xml: string }>) =>
    name.includes(marker) || (await xml().catch(() => ({ xml: "" }))).xml.includes(marker);

  const { domains } = await lv.ConnectListAllDomains({ need_results: 1, flags: 0 });
  for (const dom of domains) {
    if (!(await ours(dom.name, () => lv.DomainGetXMLDesc({ dom, flags: 0 })))) continue;
    left.push(`domain ${dom.name}`);
    await lv.DomainDestroy({ dom }).catch(ignore);
    await lv.DomainUndefineFlags({ dom, flags: 0 }).catch(ignore);
  }
  const { nets } = await lv.ConnectListAllNetworks({ need_results: 1, flags: 0 });
  for (const net of nets) {
    if (!(await ours(net.name, () => lv.NetworkGetXMLDesc({ net, flags: 0 })))) continue;
    left.push(`network ${net.name}`);
    await lv.NetworkDestroy({ net }).catch(ignore);
    await lv.NetworkUndefine({ net }).catch(ignore);
  }
  const { pools } = await lv.ConnectListAllStoragePools({ need_results: 1, flags: 0 });
  for (const pool of pools) {
    if (!(await ours(pool.name, () => lv.StoragePoolGetXMLDesc({ pool, flags: 0 })))) continue;
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
  if (poolPath.includes(marker) && fs.existsSync(poolPath)) {
    left.push(`directory ${poolPath}`);
    fs.rmSync(poolPath, { recursive: true, force: true });
  }
  return left;
}
