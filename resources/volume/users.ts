/**
 * Which domains use a volume, asked before a volume is deleted (storage.ts): libvirt deletes a
 * volume a running guest has open without a word, and the guest's filesystem then fails under it.
 *
 * A domain uses the volume when one of its disks has as its source (`<source file|dev=…>`) the
 * volume's path or key, or (`type='volume'` disks) its pool and name, or has any of these in the
 * disk's `<backingStore>` chain, which libvirt reports in a running domain's live XML: the base
 * of a running overlay is in use too. A running domain is judged by its live XML (what QEMU has
 * open), a defined one by its definition.
 */
import { ConnectListAllDomainsFlags, Libvirt, RemoteNonnullStorageVol } from "../../rpc";
import { unlessNotFound } from "../kit/not-found";
import { attr, element, elements, parseXml, XmlNode } from "../kit/xml";

export interface VolumeUser {
  /** The domain's name. */
  domain: string;
  running: boolean;
}

/** How a disk source names a volume: a path (file, block device) or a pool and volume name. */
export interface DiskSource {
  path?: string;
  pool?: string;
  volume?: string;
}

/**
 * The domains that use `vol`: only the running ones (`"running"`), or every domain libvirt
 * knows (`"any"`, defined ones by their definition). With `writing`, only those whose guest
 * writes to it: the top image of a disk that is not read-only (a base under an overlay, e.g.
 * after an external snapshot, is read only).
 */
export async function domainsUsing(
  lv: Libvirt,
  vol: RemoteNonnullStorageVol,
  which: "running" | "any",
  options: { writing?: boolean } = {},
): Promise<VolumeUser[]> {
  const { name: path } = await lv.StorageVolGetPath({ vol });
  const flags = which === "running" ? ConnectListAllDomainsFlags.ACTIVE : 0;
  const { domains } = await lv.ConnectListAllDomains({ need_results: 1, flags });
  const found = await Promise.all(
    domains.map(async (dom) => {
      // A domain that went away meanwhile uses nothing.
      const described = await unlessNotFound(() => lv.DomainGetXMLDesc({ dom, flags: 0 }));
      if (!described) return undefined;
      const uses = diskSources(described.xml, options).some(
        (source) =>
          source.path === path ||
          source.path === vol.key ||
          (source.pool === vol.pool && source.volume === vol.name),
      );
      // remote_nonnull_domain carries the id, -1 for a domain that is not running.
      return uses ? { domain: dom.name, running: dom.id !== -1 } : undefined;
    }),
  );
  return found.filter((user): user is VolumeUser => user !== undefined);
}

/**
 * Every source of every disk of a `<domain>` document, backing chains included; with `writing`,
 * only the top source of each disk that is not read-only.
 */
export function diskSources(xml: string, options: { writing?: boolean } = {}): DiskSource[] {
  const devices = element(parseXml(xml, "domain"), "devices");
  const sources: DiskSource[] = [];
  for (const disk of elements(devices, "disk")) {
    if (options.writing && element(disk, "readonly") !== undefined) continue;
    // <disk> and each <backingStore> below it: a <source>, then the next <backingStore>.
    for (
      let node: XmlNode | undefined = disk;
      node !== undefined;
      node = options.writing ? undefined : element(node, "backingStore")
    ) {
      const source = element(node, "source");
      const path = attr(source, "file") ?? attr(source, "dev");
      const pool = attr(source, "pool");
      const volume = attr(source, "volume");
      if (path !== undefined || volume !== undefined) sources.push({ path, pool, volume });
    }
  }
  return sources;
}

/** "running domain vm1", "domains vm1 (running), vm2 (not running)": the users for a message. */
export function describeUsers(users: VolumeUser[]): string {
  const allRunning = users.every((user) => user.running);
  const names = users.map((user) =>
    allRunning ? user.domain : `${user.domain} (${user.running ? "running" : "not running"})`,
  );
  return `${allRunning ? "running " : ""}domain${users.length > 1 ? "s" : ""} ${names.join(", ")}`;
}
