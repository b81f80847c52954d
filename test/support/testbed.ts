/**
 * Access to the test bed that scripts/testbed.sh starts: a real libvirtd (QEMU, network and
 * storage drivers) inside the `virtwire` network namespace, reachable on the unix socket.
 */
import { randomBytes, randomInt } from "node:crypto";
import { Libvirt, RemoteNonnullStoragePool } from "../../rpc";

/** The URI of the test bed daemon (`VIRTWIRE_TEST_URI`, default qemu:///system). */
export const TEST_URI = process.env.VIRTWIRE_TEST_URI ?? "qemu:///system";

export function connectTestbed(): Promise<Libvirt> {
  return Libvirt.connect(TEST_URI);
}

/** A name no other test run uses: `vwtest-<purpose>-<6 hex>`. */
export function uniqueName(purpose: string): string {
  return `vwtest-${purpose}-${randomBytes(3).toString("hex")}`;
}

/** `uniqueName`, recording each name it gives in `names` for the clean-up after the tests. */
export function recordedNames(): { name: (purpose: string) => string; names: string[] } {
  const names: string[] = [];
  const name = (purpose: string) => {
    const unique = uniqueName(purpose);
    names.push(unique);
    return unique;
  };
  return { name, names };
}

/** A random subnet `10.<200–249>.<0–255>` for a test network, so parallel runs do not clash. */
export function randomSubnet(): string {
  return `10.${randomInt(200, 250)}.${randomInt(0, 256)}`;
}

/** A random MAC address in QEMU's range 52:54:00. */
export function randomMac(): string {
  return `52:54:00:${randomBytes(3)
    .toString("hex")
    .replace(/(..)(?!$)/g, "$1:")}`;
}

/**
 * An isolated network (no <forward>) on `<subnet>.0/24` with the host at `.1`, and a DHCP range
 * `.100`–`.199` unless `dhcp` is false.
 */
export function isolatedNetworkXml(name: string, subnet: string, { dhcp = true } = {}): string {
  const range = dhcp
    ? `\n    <dhcp><range start='${subnet}.100' end='${subnet}.199'/></dhcp>\n  `
    : "";
  return `<network>
  <name>${name}</name>
  <ip address='${subnet}.1' netmask='255.255.255.0'>${range}</ip>
</network>`;
}

/** A dir pool whose volumes are files in `path`. */
export function dirPoolXml(name: string, path: string): string {
  return `<pool type='dir'><name>${name}</name><target><path>${path}</path></target></pool>`;
}

/** Deletes a test pool's volumes, then stops it (a transient pool is gone then); failures ignored. */
export async function removePool(lv: Libvirt, pool: RemoteNonnullStoragePool): Promise<void> {
  const { vols } = await lv.StoragePoolListAllVolumes({ pool, need_results: 1, flags: 0 });
  for (const vol of vols) await lv.StorageVolDelete({ vol, flags: 0 }).catch(() => undefined);
  await lv.StoragePoolDestroy({ pool }).catch(() => undefined);
}
