/**
 * How a Network changes. Addresses and prefixes, mode, bridge, domain and MTU are fixed for the
 * life of a libvirt network (changing them means restarting it, which cuts every attached guest
 * off), so they replace it. DHCP ranges, static DHCP hosts and DNS hosts are edited live with
 * NETWORK_UPDATE, one entry at a time, and guests stay connected.
 *
 * Lists are compared as sets (libvirt keeps its own order after live edits), MAC addresses
 * without regard to case.
 */
import type {
  NetworkAddress,
  NetworkDhcpHost,
  NetworkDhcpRange,
  NetworkDnsHost,
} from "../../sdk/types";

export interface ListEdit<T> {
  remove: T[];
  add: T[];
}

export const hostKey = (host: NetworkDhcpHost) =>
  [host.mac?.toLowerCase() ?? "", host.ip, host.name ?? ""].join("|");
export const rangeKey = (range: NetworkDhcpRange) => `${range.start}-${range.end}`;
export const dnsKey = (host: NetworkDnsHost) =>
  `${host.ip}=${[...host.hostnames].sort().join(",")}`;

/** What to delete and add to turn `before` into `after`, entries compared by `key`. */
export function listEdit<T>(
  before: readonly T[] | undefined,
  after: readonly T[] | undefined,
  key: (item: T) => string,
): ListEdit<T> {
  const beforeKeys = new Set((before ?? []).map(key));
  const afterKeys = new Set((after ?? []).map(key));
  return {
    remove: (before ?? []).filter((item) => !afterKeys.has(key(item))),
    add: (after ?? []).filter((item) => !beforeKeys.has(key(item))),
  };
}

export function sameSet<T>(
  a: readonly T[] | undefined,
  b: readonly T[] | undefined,
  key: (item: T) => string,
): boolean {
  const edit = listEdit(a, b, key);
  return edit.add.length === 0 && edit.remove.length === 0;
}

/** The part of the addresses that cannot change live: family, address and prefix, in order. */
export function addressLayout(addresses: readonly NetworkAddress[] | undefined): string {
  return (addresses ?? []).map((a) => `${a.address.toLowerCase()}/${a.prefix}`).join(" ");
}

/** True when the DHCP ranges or hosts of any address differ. */
export function dhcpDiffers(
  before: readonly NetworkAddress[] | undefined,
  after: readonly NetworkAddress[] | undefined,
): boolean {
  const count = Math.max(before?.length ?? 0, after?.length ?? 0);
  for (let i = 0; i < count; i++) {
    const a = before?.[i]?.dhcp;
    const b = after?.[i]?.dhcp;
    if (!sameSet(a?.ranges, b?.ranges, rangeKey) || !sameSet(a?.hosts, b?.hosts, hostKey))
      return true;
  }
  return false;
}

/** `actual` in the order of `previous` where they share entries, the rest after: no diff from order alone. */
export function alignTo<T>(
  previous: readonly T[] | undefined,
  actual: readonly T[],
  key: (item: T) => string,
): T[] {
  const order = new Map((previous ?? []).map((item, index) => [key(item), index]));
  return [...actual].sort(
    (a, b) => (order.get(key(a)) ?? Infinity) - (order.get(key(b)) ?? Infinity),
  );
}
