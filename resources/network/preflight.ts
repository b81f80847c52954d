/**
 * What libvirt's other networks say about a new Network, asked read-only before anything is made:
 * libvirt refuses to start a network on a subnet a running network already routes ("Network is
 * already in use by interface virbr6"), and to define one on a bridge another network has ("bridge
 * name 'virbr6' already in use"); an overlapping subnet it starts, but then the host routes the
 * common addresses to one bridge only. An `auto` address is chosen at create (auto.ts); here it only
 * fails when no subnet within its range is left. Asked when the addresses or the bridge are new or changed;
 * the network's own libvirt object (its old name, on a replacement) is not held against it.
 */
import { UNKNOWN } from "../kit/check";
import { deepEqual } from "../kit/diff";
import { ownerOf } from "../kit/owner";
import type { CheckFailure, ResourceContext } from "../kit/resource";
import type { NetworkInputs } from "../kit/generated/types";
import { isAuto, noFreeSubnet } from "./auto";
import { formatSubnet, overlaps, parseIp, subnetOf } from "./ip";
import { otherNetworks } from "./others";

export async function preflightNetwork(
  inputs: NetworkInputs,
  olds: Partial<NetworkInputs>,
  ctx: ResourceContext,
): Promise<CheckFailure[]> {
  const addressesNew = !deepEqual(olds.addresses, inputs.addresses);
  const bridge = inputs.bridge?.name;
  const bridgeNew = bridge !== undefined && bridge !== UNKNOWN && bridge !== olds.bridge?.name;
  if (!addressesNew && !bridgeNew) return [];
  const own = new Set([inputs.name, olds.name].filter((name) => typeof name === "string"));
  // A network with this resource's mark is the leftover of a failed create, which the create
  // removes first (removal.ts), whatever its name.
  const mark = ownerOf(inputs as Record<string, unknown>)?.mark;
  const others = (await otherNetworks(await ctx.connect(inputs.host))).filter(
    (other) => !own.has(other.name) && (mark === undefined || other.mark !== mark),
  );
  const failures: CheckFailure[] = [];
  if (bridgeNew && inputs.mode !== "bridge") {
    const holder = others.find((other) => other.bridge === bridge);
    if (holder) {
      failures.push({
        property: "bridge.name",
        reason: `bridge.name ${bridge} is already the bridge of libvirt's network "${holder.name}": choose another name, or leave bridge.name out and libvirt picks a free one`,
      });
    }
  }
  if (!addressesNew) return failures;
  const addresses = inputs.addresses ?? [];
  addresses.forEach((address, index) => {
    if (isAuto(address)) {
      const taken = others.flatMap((other) => other.subnets);
      const reason = noFreeSubnet(addresses, taken, index);
      if (reason) failures.push({ property: `addresses[${index}]`, reason });
      return;
    }
    const ip = parseIp(address?.address);
    if (!ip || typeof address.prefix !== "number") return;
    const subnet = subnetOf(ip, address.prefix);
    for (const other of others.filter((network) => network.active)) {
      const taken = other.subnets.find((theirs) => overlaps(subnet, theirs));
      if (!taken) continue;
      failures.push({
        property: `addresses[${index}]`,
        reason: `addresses[${index}] ${address.address}/${address.prefix} overlaps libvirt's running network "${other.name}" (${formatSubnet(taken)}${other.bridge ? ` on bridge ${other.bridge}` : ""}): choose a subnet no other network uses, or stop or change network "${other.name}"`,
      });
      break;
    }
  });
  return failures;
}
