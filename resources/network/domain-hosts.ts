/**
 * DHCP host entries a Domain made on this network (an interface with a fixed `address`, marked
 * with the alias of resources/kit/dhcp-claims.ts) are the domain's: the Network neither reports
 * them as its own hosts (a refresh would take them into its state, and the next up would remove
 * them) nor removes them. Entries made by hand stay drift. The domains are read only when the
 * network has a host its inputs do not declare, so a network without such entries costs nothing.
 *
 * A host the inputs declare stays in the state even when a domain claims its MAC (it was the
 * user's), so the state lists a claimed host only when the inputs declared it: an update removes
 * every host the state lists and the new inputs lack, claimed or not.
 */
import type { Libvirt } from "../../rpc";
import { domainClaims } from "../kit/dhcp-claims";
import type { NetworkAddress, NetworkDhcpHost } from "../kit/generated/types";
import { hostKey } from "./changes";

type Addresses = readonly (NetworkAddress | undefined)[] | undefined;

/** The hosts of `read` at each address that `declared` does not list at the same address. */
export function undeclaredHosts(read: Addresses, declared: Addresses): NetworkDhcpHost[] {
  return (read ?? []).flatMap((address, index) => {
    const known = new Set((declared?.[index]?.dhcp?.hosts ?? []).map(hostKey));
    return (address?.dhcp?.hosts ?? []).filter((host) => !known.has(hostKey(host)));
  });
}

/** `read` without the undeclared hosts whose MAC a domain claims. */
export function withoutClaimed(
  read: readonly NetworkAddress[],
  declared: Addresses,
  claims: ReadonlySet<string>,
): NetworkAddress[] {
  return read.map((address, index) => {
    if (!address.dhcp?.hosts) return address;
    const known = new Set((declared?.[index]?.dhcp?.hosts ?? []).map(hostKey));
    const hosts = address.dhcp.hosts.filter(
      (host) => known.has(hostKey(host)) || !isClaimed(host, claims),
    );
    return { ...address, dhcp: { ...address.dhcp, hosts } };
  });
}

const isClaimed = (host: NetworkDhcpHost, claims: ReadonlySet<string>) =>
  host.mac !== undefined && claims.has(host.mac.toLowerCase());

/** The addresses of network `name` as read, less the hosts domains made that `declared` lacks. */
export async function leaveDomainHosts(
  lv: Libvirt,
  name: string,
  read: NetworkAddress[],
  declared: Addresses,
): Promise<NetworkAddress[]> {
  if (!undeclaredHosts(read, declared).some((host) => host.mac !== undefined)) return read;
  return withoutClaimed(read, declared, await domainClaims(lv, name));
}
