/**
 * Everything the test bed's daemon holds, by name, through virtwire's own RPC client: what a test
 * compares before and after `pulumi destroy`.
 */
import { formatUuid } from "../../rpc";
import type { Libvirt } from "../../rpc";

export interface Inventory {
  domains: string[];
  networks: string[];
  pools: string[];
  /** Volume keys (their paths, in dir pools) across all active pools. */
  volumes: string[];
  /** Secrets by usage id (a volume secret's path), or UUID when they have no usage. */
  secrets: string[];
}

export async function inventory(lv: Libvirt): Promise<Inventory> {
  const { domains } = await lv.ConnectListAllDomains({ need_results: 1, flags: 0 });
  const { nets } = await lv.ConnectListAllNetworks({ need_results: 1, flags: 0 });
  const { pools } = await lv.ConnectListAllStoragePools({ need_results: 1, flags: 0 });
  const { secrets } = await lv.ConnectListAllSecrets({ need_results: 1, flags: 0 });
  const volumes: string[] = [];
  for (const pool of pools) {
    // An inactive pool cannot list its volumes; one removed meanwhile is gone anyway.
    const listed = await lv
      .StoragePoolListAllVolumes({ pool, need_results: 1, flags: 0 })
      .catch(() => ({ vols: [] }));
    volumes.push(...listed.vols.map((vol) => vol.key));
  }
  return {
    domains: domains.map((dom) => dom.name),
    networks: nets.map((net) => net.name),
    pools: pools.map((pool) => pool.name),
    volumes,
    secrets: secrets.map((secret) => secret.usageID || formatUuid(secret.uuid)),
  };
}
