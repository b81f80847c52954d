/**
 * IPv4 and IPv6 addresses as numbers, for the Network's checks: is it an address at all, which
 * subnet holds it, do two subnets overlap, how many addresses lie between two.
 */
import { isIPv4, isIPv6 } from "node:net";

export interface Ip {
  family: 4 | 6;
  value: bigint;
}

export interface Subnet {
  family: 4 | 6;
  /** The first address of the subnet (the network address). */
  base: bigint;
  prefix: number;
}

const bits = (family: 4 | 6) => (family === 4 ? 32 : 128);

/** The address, or undefined when `text` is not an IPv4 or IPv6 address (no zone, no prefix). */
export function parseIp(text: unknown): Ip | undefined {
  if (typeof text !== "string") return undefined;
  if (isIPv4(text)) return { family: 4, value: ipv4Value(text) };
  if (!isIPv6(text) || text.includes("%")) return undefined;
  return { family: 6, value: ipv6Value(text) };
}

function ipv4Value(text: string): bigint {
  return text.split(".").reduce((value, octet) => (value << 8n) | BigInt(octet), 0n);
}

/** `::` expanded, an IPv4 tail (`::ffff:10.0.0.1`) read as the last two groups. */
function ipv6Value(text: string): bigint {
  let groups = text;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const v4 = ipv4Value(tail[1]!);
    groups = `${text.slice(0, tail.index)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, rest] = groups.split("::") as [string, string | undefined];
  const left = head ? head.split(":") : [];
  const right = rest ? rest.split(":") : [];
  const missing = rest === undefined ? 0 : 8 - left.length - right.length;
  const all = [...left, ...Array<string>(missing).fill("0"), ...right];
  return all.reduce((value, group) => (value << 16n) | BigInt(`0x${group}`), 0n);
}

/** The subnet `ip/prefix` lies in. */
export function subnetOf(ip: Ip, prefix: number): Subnet {
  const hostBits = BigInt(bits(ip.family) - prefix);
  return { family: ip.family, base: (ip.value >> hostBits) << hostBits, prefix };
}

/** The last address of the subnet (the broadcast address, for IPv4). */
export function lastOf(subnet: Subnet): bigint {
  return subnet.base + (1n << BigInt(bits(subnet.family) - subnet.prefix)) - 1n;
}

export function contains(subnet: Subnet, ip: Ip): boolean {
  return ip.family === subnet.family && ip.value >= subnet.base && ip.value <= lastOf(subnet);
}

/** Whether two subnets share an address (one holds the other's network address). */
export function overlaps(a: Subnet, b: Subnet): boolean {
  return a.family === b.family && a.base <= lastOf(b) && b.base <= lastOf(a);
}

/** `10.0.0.0/24`, `fd00::/64`: a subnet as people write it. */
export function formatSubnet(subnet: Subnet): string {
  return `${formatIp({ family: subnet.family, value: subnet.base })}/${subnet.prefix}`;
}

export function formatIp(ip: Ip): string {
  if (ip.family === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => String((ip.value >> shift) & 0xffn)).join(".");
  }
  const groups = Array.from({ length: 8 }, (_, i) =>
    ((ip.value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16),
  );
  // The longest run of two or more zero groups becomes "::".
  let best = { start: -1, length: 0 };
  for (let start = 0; start < 8;) {
    let end = start;
    while (end < 8 && groups[end] === "0") end++;
    if (end - start > best.length) best = { start, length: end - start };
    start = end === start ? start + 1 : end;
  }
  if (best.length < 2) return groups.join(":");
  const head = groups.slice(0, best.start).join(":");
  const tail = groups.slice(best.start + best.length).join(":");
  return `${head}::${tail}`;
}

/** `10.112.0.0/12` as a subnet (the address need not be the network address); else undefined. */
export function parseSubnet(text: unknown): Subnet | undefined {
  if (typeof text !== "string") return undefined;
  const [address, prefix, extra] = text.split("/");
  const ip = parseIp(address);
  if (!ip || extra !== undefined || !/^\d{1,3}$/.test(prefix ?? "")) return undefined;
  if (Number(prefix) > bits(ip.family)) return undefined;
  return subnetOf(ip, Number(prefix));
}
