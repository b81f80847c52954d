/**
 * `address: "auto"`: a free IPv4 subnet, chosen when the network is created (claim.ts makes sure
 * that two creates at the same moment do not keep the same one), kept for the network's life.
 *
 * Only libvirt's networks are seen: a subnet the host uses for something else (a VPN, a docker
 * bridge) is avoided by choosing `within` accordingly (libvirt refuses to start on a subnet that
 * exactly matches a host route, and that error is passed on).
 */
import { randomInt } from "node:crypto";
import type { NetworkAddress, NetworkDhcp, NetworkInputs } from "../kit/generated/types";
import {
  Subnet,
  contains,
  formatIp,
  formatSubnet,
  lastOf,
  overlaps,
  parseIp,
  parseSubnet,
  subnetOf,
} from "./ip";

export const AUTO = "auto";

export function isAuto(address: NetworkAddress | undefined): boolean {
  return address?.address === AUTO;
}

/** A subnet's DHCP range: every address but the network address, the host's and the broadcast. */
function wholeRange(subnet: Subnet): NetworkDhcp {
  const first = formatIp({ family: 4, value: subnet.base + 2n });
  const last = formatIp({ family: 4, value: lastOf(subnet) - 1n });
  return { ranges: [{ start: first, end: last }] };
}

/** The concrete address for `auto` on `subnet`: the host first, DHCP over the rest if asked. */
function onSubnet(subnet: Subnet, wanted: NetworkAddress): NetworkAddress {
  return {
    address: formatIp({ family: 4, value: subnet.base + 1n }),
    prefix: subnet.prefix,
    ...(wanted.dhcp ? { dhcp: wholeRange(subnet) } : {}),
  };
}

/**
 * The wanted addresses with each `auto` one replaced by the address the network has at that place
 * (`current`, from libvirt), when that still fits: IPv4, the same prefix, inside `within`. An
 * `auto` that does not fit stays `auto`, and so differs: the network is replaced.
 */
export function keepChosen(
  wanted: NetworkAddress[] | undefined,
  current: NetworkAddress[] | undefined,
): NetworkAddress[] | undefined {
  // In a preview the list may be a value not known yet: nothing to keep.
  if (!Array.isArray(wanted)) return wanted;
  return wanted.map((address, index) => {
    const now = current?.[index];
    const ip = parseIp(now?.address);
    const within = parseSubnet(address.within);
    if (!isAuto(address) || !now || !ip || ip.family !== 4 || !within) return address;
    if (now.prefix !== address.prefix || address.prefix < within.prefix) return address;
    if (!contains(within, ip)) return address;
    const subnet = subnetOf(ip, now.prefix);
    const ranges = now.dhcp?.ranges?.length ? now.dhcp.ranges : wholeRange(subnet).ranges;
    return {
      address: now.address,
      prefix: now.prefix,
      ...(address.dhcp ? { dhcp: { ranges } } : {}),
    };
  });
}

/**
 * A random subnet of `prefix` bits inside `within` that overlaps none of `taken`; undefined when
 * there is none. Random, so that creates choosing at the same moment rarely choose alike.
 */
export function freeSubnet(within: Subnet, prefix: number, taken: Subnet[]): Subnet | undefined {
  const count = 1n << BigInt(prefix - within.prefix);
  const size = 1n << BigInt(32 - prefix);
  const at = (index: bigint): Subnet => ({ family: 4, base: within.base + index * size, prefix });
  const free = (subnet: Subnet) => !taken.some((other) => overlaps(subnet, other));
  if (count <= 65536n) {
    const candidates: Subnet[] = [];
    for (let index = 0n; index < count; index++) {
      if (free(at(index))) candidates.push(at(index));
    }
    return candidates.length > 0 ? candidates[randomInt(candidates.length)] : undefined;
  }
  // Too many to list (e.g. /30s within a /8): random tries; such a space is rarely full.
  for (let tries = 0; tries < 4096; tries++) {
    const subnet = at(BigInt(randomInt(Number(count))));
    if (free(subnet)) return subnet;
  }
  return undefined;
}

/** The subnets of the given addresses that are concrete (not `auto`). */
export function subnetsOf(addresses: NetworkAddress[]): Subnet[] {
  return addresses.flatMap((address) => {
    const ip = parseIp(address.address);
    return ip ? [subnetOf(ip, address.prefix)] : [];
  });
}

/** Why an `auto` address cannot be chosen, or undefined when it can (for preflight). */
export function noFreeSubnet(
  addresses: NetworkAddress[],
  taken: Subnet[],
  index: number,
): string | undefined {
  const address = addresses[index]!;
  const within = parseSubnet(address.within);
  if (!within) return undefined;
  if (freeSubnet(within, address.prefix, [...taken, ...subnetsOf(addresses)])) return undefined;
  return `addresses[${index}] auto: every /${address.prefix} subnet within ${formatSubnet(within)} is taken by libvirt's networks: give a larger within, or another one`;
}

/** The inputs with every `auto` address chosen so that it overlaps none of `taken`. */
export function chooseAuto<T extends NetworkInputs>(
  inputs: T,
  taken: Subnet[],
): T & { addresses?: NetworkAddress[] } {
  const addresses = inputs.addresses ?? [];
  if (!addresses.some(isAuto)) return inputs;
  const used = [...taken, ...subnetsOf(addresses)];
  const chosen = addresses.map((address, index) => {
    if (!isAuto(address)) return address;
    const within = parseSubnet(address.within)!;
    const subnet = freeSubnet(within, address.prefix, used);
    if (!subnet) throw new Error(noFreeSubnet(addresses, taken, index));
    used.push(subnet);
    return onSubnet(subnet, address);
  });
  return { ...inputs, addresses: chosen };
}
