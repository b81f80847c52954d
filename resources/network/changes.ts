/**
 * How a Network changes. Addresses and prefixes, mode, bridge, domain and MTU are fixed for the
 * life of a libvirt network (changing them means restarting it, which cuts every attached guest
 * off), so they replace it. DHCP ranges, static DHCP hosts and DNS hosts are edited live with
 * NETWORK_UPDATE, one entry at a time, and guests stay connected.
 *
 * Lists are compared as sets (libvirt keeps its own order after live edits), MAC addresses
 * without regard to case, IP addresses by value: libvirt writes them its own way (`fd00:0:0287::1`
 * comes back as `fd00:0:287::1`; found by the generated-inputs test, which saw the network replaced
 * at every up).
 */
import type {
  NetworkAddress,
  NetworkDhcpHost,
  NetworkDhcpRange,
  NetworkDnsHost,
} from "../kit/generated/types";
import { parseIp } from "./ip";

export interface ListEdit<T> {
  remove: T[];
  add: T[];
}

/** An IP address as a key: the same however it is written (`fd00::0100` is `fd00::100`). */
export const ipKey = (text: string): string => {
  const ip = parseIp(text);
  return ip ? `v${ip.family}:${ip.value.toString(16)}` : text;
};
export const hostKey = (host: NetworkDhcpHost) =>
  [host.mac?.toLowerCase() ?? "", ipKey(host.ip), host.name ?? ""].join("|");
export const rangeKey = (range: NetworkDhcpRange) => `${ipKey(range.start)}-${ipKey(range.end)}`;
export const dnsKey = (host: NetworkDnsHost) =>
  `${ipKey(host.ip)}=${[...host.hostnames].sort().join(",")}`;

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
  return (addresses ?? []).map((a) => `${ipKey(a.address)}/${a.prefix}`).join(" ");
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

/**
 * `actual` as alignTo orders it, each entry that means the same as one of `previous` given as it
 * is there: the outputs keep the user's spelling of addresses, MACs and the order of names.
 */
export function asGiven<T>(
  previous: readonly T[] | undefined,
  actual: readonly T[],
  key: (item: T) => string,
): T[] {
  const given = new Map((previous ?? []).map((item) => [key(item), item]));
  return alignTo(previous, actual, key).map((item) => given.get(key(item)) ?? item);
}
