/**
 * IP addresses of a domain's interfaces (the wait for them is address-wait.ts).
 *
 * Sources (DOMAIN_INTERFACE_ADDRESSES): LEASE reads the DHCP leases of libvirt's own networks
 * (interfaces on a `network` only); AGENT asks the QEMU guest agent (any interface; needs the
 * channel and the agent in the guest). Link-local addresses do not count: the agent reports
 * fe80:: before DHCP finishes, and returning then is the "too early" bug of other providers.
 */
import { DomainInterfaceAddressesSource, LibvirtError, isNotFound } from "../../rpc";
import type {
  Libvirt,
  RemoteNetworkDhcpLease,
  RemoteNonnullDomain,
  RemoteNonnullNetwork,
} from "../../rpc";
import type {
  DomainAddressSource,
  DomainInterfaceState,
  DomainNetworkInterface,
} from "../kit/generated/types";

export interface AddressQuery {
  source: DomainAddressSource;
  qemuAgent: boolean;
  /** Leases from before a (re)start, which do not count (see leaseBaseline). */
  baseline?: LeaseBaseline;
  /** Networks looked up already, by name: a wait that asks every 500 ms looks each up once. */
  networks?: NetworkRefs;
}

/** Network references by name, kept for the length of one wait (currentLeases). */
export type NetworkRefs = Map<string, RemoteNonnullNetwork>;

export interface AddressLookup {
  byMac: Map<string, string[]>;
  /** MACs (lower case) with only a lease from before the (re)start, which does not count. */
  staleLeases: Set<string>;
  /** Why the agent could not be asked, when it was asked. */
  agentError?: unknown;
}

/** The interfaces with the addresses found for their MACs (none when not running). */
export function interfaceStates(
  nics: DomainNetworkInterface[],
  byMac: Map<string, string[]>,
): DomainInterfaceState[] {
  return nics.map((nic) => ({
    mac: nic.mac ?? "",
    ...(nic.network !== undefined ? { network: nic.network } : { bridge: nic.bridge }),
    addresses: byMac.get(nic.mac ?? "") ?? [],
  }));
}

/** Where the addresses of an interface can come from, under the query's source. */
export function sourcesFor(
  nic: DomainNetworkInterface,
  query: AddressQuery,
): ("lease" | "agent")[] {
  const agent = query.qemuAgent ? (["agent"] as const) : [];
  if (query.source === "agent") return [...agent];
  if (nic.network === undefined) return query.source === "any" ? [...agent] : [];
  return query.source === "lease" ? ["lease"] : ["lease", ...agent];
}

export async function lookupAddresses(
  lv: Libvirt,
  dom: RemoteNonnullDomain,
  nics: DomainNetworkInterface[],
  query: AddressQuery,
): Promise<AddressLookup> {
  const byMac = new Map<string, string[]>();
  const staleLeases = new Set<string>();
  const add = (mac: string, addrs: string[]) => {
    const list = byMac.get(mac) ?? [];
    for (const addr of addrs) if (usable(addr) && !list.includes(addr)) list.push(addr);
    byMac.set(mac, list);
  };
  for (const nic of nics) {
    const mac = nic.mac?.toLowerCase();
    if (!mac || !sourcesFor(nic, query).includes("lease")) continue;
    const leases = await currentLeases(lv, nic, query.networks);
    const before = query.baseline?.get(mac);
    if (before !== undefined && !renewedSince(leases, before)) {
      if (leases.length > 0) staleLeases.add(mac);
      continue;
    }
    add(
      mac,
      leases.map((lease) => lease.ipaddr),
    );
  }
  let agentError: unknown;
  if (nics.some((nic) => sourcesFor(nic, query).includes("agent"))) {
    try {
      const { ifaces } = await lv.DomainInterfaceAddresses({
        dom,
        source: DomainInterfaceAddressesSource.AGENT,
        flags: 0,
      });
      for (const iface of ifaces) {
        const mac = iface.hwaddr?.toLowerCase();
        if (mac)
          add(
            mac,
            iface.addrs.map(({ addr }) => addr),
          );
      }
    } catch (error) {
      if (!(error instanceof LibvirtError)) throw error;
      agentError = error;
    }
  }
  return { byMac, staleLeases, agentError };
}

/** The latest lease expiry (seconds since the epoch, 0 = never) of each MAC, taken before a (re)start. */
export type LeaseBaseline = Map<string, bigint>;

/**
 * A lease outlives the boot that took it: right after a restart, libvirt still reports the old one.
 * Taken just before starting, this baseline lets the wait ignore leases not renewed since.
 */
export async function leaseBaseline(
  lv: Libvirt,
  nics: DomainNetworkInterface[],
): Promise<LeaseBaseline> {
  const baseline: LeaseBaseline = new Map();
  for (const nic of nics) {
    const leases = await currentLeases(lv, nic);
    if (leases.length > 0) baseline.set(nic.mac!.toLowerCase(), latestExpiry(leases));
  }
  return baseline;
}

/** Seconds since the epoch; a lease that never expires (0) counts as the latest. */
const expiry = (lease: RemoteNetworkDhcpLease) =>
  lease.expirytime === 0n ? BigInt(Number.MAX_SAFE_INTEGER) : lease.expirytime;

function latestExpiry(leases: RemoteNetworkDhcpLease[]): bigint {
  return leases
    .map((lease) => lease.expirytime)
    .reduce((a, b) => (a === 0n || b === 0n ? 0n : a > b ? a : b));
}

/** True when a lease was taken or renewed after the baseline (never-expiring leases count as renewed). */
export function renewedSince(leases: RemoteNetworkDhcpLease[], before: bigint): boolean {
  if (before === 0n) return true;
  return leases.length > 0 && latestExpiry(leases) > before;
}

/**
 * The current lease of each address family for the NIC's MAC: the one that expires last. A guest
 * that got a new address (a re-imaged disk, a new DHCP client id) leaves its old lease in the
 * network until it expires; it is not the guest's address any more. With `networks`, the network
 * is looked up by name only the first time, and again when the reference kept is gone (the network
 * was destroyed, or replaced by one of the same name).
 */
export async function currentLeases(
  lv: Libvirt,
  nic: DomainNetworkInterface,
  networks?: NetworkRefs,
): Promise<RemoteNetworkDhcpLease[]> {
  if (nic.network === undefined || !nic.mac) return [];
  const { network: name, mac } = nic;
  const lookup = async () => (await lv.NetworkLookupByName({ name })).net;
  const leasesOn = (net: RemoteNonnullNetwork) =>
    lv.NetworkGetDHCPLeases({ net, mac, need_results: 1, flags: 0 });
  try {
    const kept = networks?.get(name);
    let leases: RemoteNetworkDhcpLease[] | undefined;
    if (kept) {
      try {
        ({ leases } = await leasesOn(kept));
      } catch (error) {
        if (!isNotFound(error)) throw error;
        networks!.delete(name);
      }
    }
    if (!leases) {
      const net = await lookup();
      networks?.set(name, net);
      ({ leases } = await leasesOn(net));
    }
    const newest = new Map<number, RemoteNetworkDhcpLease>();
    for (const lease of leases) {
      const seen = newest.get(lease.type);
      if (!seen || expiry(lease) > expiry(seen)) newest.set(lease.type, lease);
    }
    return [...newest.values()];
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

/** Not loopback or link-local: an address the guest can be reached at. */
export function usable(addr: string): boolean {
  const lower = addr.toLowerCase();
  return !(
    lower.startsWith("169.254.") ||
    lower.startsWith("127.") ||
    /^fe[89ab][0-9a-f]:/.test(lower) ||
    lower === "::1"
  );
}
