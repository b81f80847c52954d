/**
 * IP addresses of a domain's interfaces, and the honest wait for them: poll libvirt until every
 * interface has a usable address, and when the time is up say why not (no DHCP on the network,
 * no lease for that MAC, no agent channel, the agent not answering) instead of looping for ever.
 *
 * Sources (DOMAIN_INTERFACE_ADDRESSES): LEASE reads the DHCP leases of libvirt's own networks
 * (interfaces on a `network` only); AGENT asks the QEMU guest agent (any interface; needs the
 * channel and the agent in the guest). Link-local addresses do not count: the agent reports
 * fe80:: before DHCP finishes, and returning then is the "too early" bug of other providers.
 */
import {
  DomainInterfaceAddressesSource,
  ErrorCode,
  LibvirtError,
  hasErrorCode,
  isNotFound,
} from "../../rpc";
import type { Libvirt, RemoteNonnullDomain } from "../../rpc";
import type {
  DomainAddressSource,
  DomainInterfaceState,
  DomainNetworkInterface,
} from "../../sdk/types";
import { isRunningState, domainState, sleep, stateName } from "./power";

const POLL_MS = 500;

export interface AddressQuery {
  source: DomainAddressSource;
  qemuAgent: boolean;
  /** Leases from before a (re)start, which do not count (see leaseBaseline). */
  baseline?: LeaseBaseline;
}

export interface AddressLookup {
  byMac: Map<string, string[]>;
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

function sourcesFor(nic: DomainNetworkInterface, query: AddressQuery): ("lease" | "agent")[] {
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
  const wanted = new Set(nics.flatMap((nic) => sourcesFor(nic, query)));
  const byMac = new Map<string, string[]>();
  const collect = async (source: DomainInterfaceAddressesSource, skip = new Set<string>()) => {
    const { ifaces } = await lv.DomainInterfaceAddresses({ dom, source, flags: 0 });
    for (const iface of ifaces) {
      const mac = iface.hwaddr?.toLowerCase();
      if (!mac || skip.has(mac)) continue;
      const list = byMac.get(mac) ?? [];
      for (const { addr } of iface.addrs) if (usable(addr) && !list.includes(addr)) list.push(addr);
      byMac.set(mac, list);
    }
  };
  let agentError: unknown;
  if (wanted.has("lease")) {
    await collect(DomainInterfaceAddressesSource.LEASE, await staleMacs(lv, nics, query.baseline));
  }
  if (wanted.has("agent")) {
    await collect(DomainInterfaceAddressesSource.AGENT).catch((error: unknown) => {
      if (!(error instanceof LibvirtError)) throw error;
      agentError = error;
    });
  }
  return { byMac, agentError };
}

/** The latest lease expiry (seconds since the epoch) of each MAC, taken before a (re)start. */
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
    const expiry = await leaseExpiry(lv, nic);
    if (expiry !== undefined) baseline.set(nic.mac!.toLowerCase(), expiry);
  }
  return baseline;
}

async function leaseExpiry(lv: Libvirt, nic: DomainNetworkInterface): Promise<bigint | undefined> {
  if (nic.network === undefined || !nic.mac) return undefined;
  try {
    const { net } = await lv.NetworkLookupByName({ name: nic.network });
    const { leases } = await lv.NetworkGetDHCPLeases({
      net,
      mac: nic.mac,
      need_results: 1,
      flags: 0,
    });
    if (leases.length === 0) return undefined;
    return leases.map((lease) => BigInt(lease.expirytime)).reduce((a, b) => (a > b ? a : b));
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** MACs whose lease has not been renewed since the baseline (leases that never expire count as renewed). */
async function staleMacs(
  lv: Libvirt,
  nics: DomainNetworkInterface[],
  baseline: LeaseBaseline | undefined,
): Promise<Set<string>> {
  const stale = new Set<string>();
  if (!baseline?.size) return stale;
  for (const nic of nics) {
    const mac = nic.mac?.toLowerCase();
    const before = mac === undefined ? undefined : baseline.get(mac);
    if (mac === undefined || before === undefined || before === 0n) continue;
    const now = await leaseExpiry(lv, nic);
    if (now === undefined || now <= before) stale.add(mac);
  }
  return stale;
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

/**
 * Polls until every interface has an address; returns them and how long it took. Fails when the
 * domain stops, or after `timeoutSeconds` with a diagnosis for each interface still without one.
 */
export async function waitForAddresses(
  lv: Libvirt,
  dom: RemoteNonnullDomain,
  nics: DomainNetworkInterface[],
  query: AddressQuery & { timeoutSeconds: number },
): Promise<{ byMac: Map<string, string[]>; elapsedMs: number }> {
  const started = Date.now();
  const deadline = started + query.timeoutSeconds * 1000;
  for (;;) {
    const found = await lookupAddresses(lv, dom, nics, query);
    const missing = nics.filter((nic) => !(found.byMac.get(nic.mac ?? "") ?? []).length);
    if (missing.length === 0) return { byMac: found.byMac, elapsedMs: Date.now() - started };
    const state = await domainState(lv, dom);
    if (!isRunningState(state)) {
      throw new Error(
        `the domain stopped (state ${stateName(state)}) while waiting for its IP addresses; its console log may say why`,
      );
    }
    if (Date.now() >= deadline) {
      const reasons = await Promise.all(
        missing.map((nic) => diagnose(lv, nic, query, found.agentError)),
      );
      throw new Error(
        `no IP address after ${query.timeoutSeconds} s (waitForAddresses.source ${query.source}): ${reasons.join("; ")}`,
      );
    }
    await sleep(POLL_MS);
  }
}

async function diagnose(
  lv: Libvirt,
  nic: DomainNetworkInterface,
  query: AddressQuery,
  agentError: unknown,
): Promise<string> {
  const who = `interface ${nic.mac}`;
  const reasons: string[] = [];
  if (sourcesFor(nic, query).includes("lease")) {
    const before = query.baseline?.get(nic.mac?.toLowerCase() ?? "");
    const renewed = before === undefined || (await leaseExpiry(lv, nic))! > before;
    reasons.push(
      renewed
        ? await leaseDiagnosis(lv, nic)
        : `only the lease from before this start is known for MAC ${nic.mac} on network ${nic.network}: the guest has not asked for an address since it started (did it boot? its console may say)`,
    );
  }
  if (sourcesFor(nic, query).includes("agent")) reasons.push(agentDiagnosis(nic, agentError));
  if (reasons.length === 0) reasons.push("no address source applies (see waitForAddresses.source)");
  return `${who}: ${reasons.join(", and ")}`;
}

async function leaseDiagnosis(lv: Libvirt, nic: DomainNetworkInterface): Promise<string> {
  const name = nic.network!;
  try {
    const { net } = await lv.NetworkLookupByName({ name });
    if (!(await lv.NetworkIsActive({ net })).active) return `network ${name} is not running`;
    const { xml } = await lv.NetworkGetXMLDesc({ net, flags: 0 });
    if (!/<dhcp[\s>/]/.test(xml)) {
      return `network ${name} has no DHCP server (no <dhcp> range), so no lease can appear: give it a DHCP range, or use the guest agent`;
    }
    const { leases } = await lv.NetworkGetDHCPLeases({
      net,
      mac: nic.mac!,
      need_results: 1,
      flags: 0,
    });
    if (leases.length === 0) {
      return `no DHCP lease seen for MAC ${nic.mac} on network ${name}: the guest never asked for one (did it boot, and does it run a DHCP client on this interface? its console may say)`;
    }
    return `network ${name} has a lease for MAC ${nic.mac} (${leases.map((l) => l.ipaddr).join(", ")}) but libvirt does not report it for the domain`;
  } catch (error) {
    if (isNotFound(error)) return `network ${name} does not exist`;
    throw error;
  }
}

function agentDiagnosis(nic: DomainNetworkInterface, agentError: unknown): string {
  if (agentError === undefined) {
    return `the guest agent answered but reports no address for MAC ${nic.mac} (is the interface up and configured in the guest?)`;
  }
  const message = (agentError as Error).message;
  if (hasErrorCode(agentError, ErrorCode.ARGUMENT_UNSUPPORTED) || /not configured/i.test(message)) {
    return "no guest agent channel is configured (set qemuAgent: true)";
  }
  if (
    hasErrorCode(agentError, ErrorCode.AGENT_UNRESPONSIVE) ||
    /not (connected|responding)/i.test(message)
  ) {
    return `the QEMU guest agent did not answer (${message}): is qemu-guest-agent installed and running in the guest?`;
  }
  return `asking the guest agent failed: ${message}`;
}
