/**
 * Access to the test bed that scripts/testbed.sh starts: a real libvirtd (QEMU, network and
 * storage drivers), reachable on its unix socket. There are two, and each integration project
 * (jest.config.js) sets `VIRTWIRE_TEST_URI` to one: the host's libvirt 9.0 in the `virtwire`
 * network namespace, and libvirt 11 in a Debian 13 root (scripts/testbed/libvirt11.sh). Tests
 * reach the daemon only through what this module exports.
 */
import { randomBytes, randomInt } from "node:crypto";
import { join } from "node:path";
import { Libvirt, RemoteNonnullStoragePool, parseLibvirtUri } from "../../rpc";
import { localSocketPath } from "../../rpc/transport/sockets";
export { randomMac } from "../../resources/domain/live";

/** The URI of the test bed daemon (`VIRTWIRE_TEST_URI`, default qemu:///system). */
export const TEST_URI = process.env.VIRTWIRE_TEST_URI ?? "qemu:///system";

/** The unix socket TEST_URI leads to, as the client chooses it. */
export const TEST_SOCKET = localSocketPath(parseLibvirtUri(TEST_URI), false);

/** The URI the daemon says it opened: TEST_URI without its client-side parameters. */
export const TEST_DRIVER_URI = parseLibvirtUri(TEST_URI).name;

/**
 * Where a path the daemon names for its own files (NVRAM, /var/lib/libvirt) lies on this host:
 * below `VIRTWIRE_DAEMON_ROOT` for a daemon in a chroot. Paths tests hand to the daemon (under
 * /tmp, the guest cache) are the same on both sides.
 */
export function daemonPath(path: string): string {
  return join(process.env.VIRTWIRE_DAEMON_ROOT || "/", path);
}

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
