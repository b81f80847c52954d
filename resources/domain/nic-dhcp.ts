/**
 * A fixed address per interface, as terraform-provider-libvirt 0.8 did it: a DHCP host entry
 * `<host mac="…" ip="…" name="…"/>` in the `<ip>` element of the interface's network whose subnet
 * holds the address, added and removed with NETWORK_UPDATE (IP_DHCP_HOST) on the running network
 * and its config, never restarting it. The domain marks the interfaces whose entry it made with
 * a user alias (`<alias name="ua-vw-dhcp-<mac>"/>`, kept in the inactive XML; the convention is in
 * resources/kit/dhcp-claims.ts, which Networks read to leave these entries alone): only those
 * entries are read back as the interface's `address` and `hostname`, and only those are ever
 * removed, so an entry the network itself lists for a MAC stays the network's.
 *
 *   <network> <ip address="192.168.7.1" prefix="24"> <dhcp> <host mac ip name?/>* </dhcp> </ip>* </network>
 */
import { BlockList, isIP, isIPv6 } from "node:net";
import {
  AffectFlags,
  NetworkUpdateCommand,
  NetworkUpdateSection,
  NetworkXMLFlags,
  isNotFound,
  networkUpdate,
} from "../../rpc";
import type { Libvirt } from "../../rpc";
import { create } from "../kit/xmlbuilder";
import { attr, element, elements, parseXml } from "../kit/xml";
import type { XmlNode } from "../kit/xml";
import { UNKNOWN } from "../kit/check";
import { markIn } from "../kit/owner";
import type { CheckFailure, ResourceContext } from "../kit/resource";
import type { DomainInputs, DomainNetworkInterface } from "../kit/generated/types";
import type { CheckedDomainInputs } from "../kit/generated/checked";
import { sameStack } from "./address-wait";

export interface DhcpEntry {
  network: string;
  mac: string;
  ip: string;
  name?: string;
  /** Where the entry came from, for messages: `networkInterfaces[1]`. */
  property?: string;
}

/** The entries interfaces with an `address` (and a MAC) stand for. */
export function entriesOf(nics: DomainNetworkInterface[]): DhcpEntry[] {
  return nics.flatMap((nic, index) =>
    nic.network !== undefined && nic.address !== undefined && nic.mac
      ? [
          {
            network: nic.network,
            mac: nic.mac.toLowerCase(),
            ip: nic.address,
            ...(nic.hostname !== undefined && { name: nic.hostname }),
            property: `networkInterfaces[${index}]`,
          },
        ]
      : [],
  );
}

const key = (entry: DhcpEntry) => [entry.network, entry.mac, entry.ip, entry.name ?? ""].join("|");

/**
 * Removes the entries of `before` that `after` lacks, then adds those `after` has anew. Each entry
 * added is pushed to `added` at once, so a caller whose later step (or a later add) fails undoes
 * only what this call made, never an equal entry that was there before (its ADD fails).
 */
export async function syncDhcpEntries(
  lv: Libvirt,
  before: DhcpEntry[],
  after: DhcpEntry[],
  added: DhcpEntry[] = [],
): Promise<void> {
  const keep = new Set(after.map(key));
  const had = new Set(before.map(key));
  await removeDhcpEntries(
    lv,
    before.filter((item) => !keep.has(key(item))),
  );
  for (const entry of after.filter((item) => !had.has(key(item)))) {
    await editEntry(lv, entry, NetworkUpdateCommand.ADD_LAST);
    added.push(entry);
  }
}

/**
 * Removes each entry on its own: one that fails does not keep the others; the failures are
 * reported together once every entry was tried. A network that is gone has none left to remove.
 */
export async function removeDhcpEntries(lv: Libvirt, entries: DhcpEntry[]): Promise<void> {
  const failures: string[] = [];
  let first: unknown;
  for (const entry of entries) {
    try {
      await editEntry(lv, entry, NetworkUpdateCommand.DELETE);
    } catch (error) {
      first ??= error;
      const reason = error instanceof Error ? error.message : String(error);
      failures.push(`${describeEntry(entry)}: ${reason}`);
    }
  }
  if (failures.length === 0) return;
  throw new Error(
    `could not remove ${failures.length} DHCP host ${failures.length === 1 ? "entry" : "entries"} (${failures.join("; ")}); remove each with virsh net-update <network> delete ip-dhcp-host "<host mac='…' ip='…'/>" --live --config`,
    { cause: first },
  );
}

/** `<host mac="…" ip="…"/> of network net`, for messages. */
export function describeEntry(entry: DhcpEntry): string {
  return `<host mac="${entry.mac}" ip="${entry.ip}"/> of network ${entry.network}`;
}

async function editEntry(lv: Libvirt, entry: DhcpEntry, command: NetworkUpdateCommand) {
  const adding = command === NetworkUpdateCommand.ADD_LAST;
  let net;
  try {
    ({ net } = await lv.NetworkLookupByName({ name: entry.network }));
  } catch (error) {
    // A network that is gone has no entry left to remove.
    if (!adding && isNotFound(error)) return;
    throw error;
  }
  const [{ xml }, { active }] = await Promise.all([
    lv.NetworkGetXMLDesc({ net, flags: NetworkXMLFlags.INACTIVE }),
    lv.NetworkIsActive({ net }),
  ]);
  const ips = elements(parseXml(xml, "network"), "ip");
  const index = ips.findIndex((ip) => holds(ip, entry.ip));
  if (index < 0) {
    if (!adding) return;
    throw new Error(outside(entry.property ?? "networkInterfaces", entry.ip, entry.network, ips));
  }
  // An entry already gone (removed by hand, or the network made again) is removed: libvirt would
  // refuse to delete what it cannot find.
  const hasEntry = elements(element(ips[index], "dhcp"), "host").some(
    (host) => attr(host, "mac")?.toLowerCase() === entry.mac.toLowerCase(),
  );
  if (!adding && !hasEntry) return;
  const host = create().ele("host", { mac: entry.mac, ip: entry.ip });
  if (entry.name !== undefined) host.att("name", entry.name);
  const flags = active ? AffectFlags.LIVE | AffectFlags.CONFIG : AffectFlags.CONFIG;
  const fragment = host.end({ headless: true });
  await networkUpdate(lv, net, command, NetworkUpdateSection.IP_DHCP_HOST, index, fragment, flags);
}

function outside(property: string, address: string, network: string, ips: XmlNode[]): string {
  const subnets = ips.map((ip) => `${attr(ip, "address")}/${prefixOf(ip)}`).join(", ");
  return `${property}.address ${address} is not in a subnet of network ${network} (${subnets || "it has none"}): use an address in one of them`;
}

/**
 * At preview, a new fixed address outside the subnets of a network that exists now. A network of
 * the same stack may change in the same update (a new subnet): a warning then, and up decides.
 */
export async function fixedAddressFailures(
  inputs: CheckedDomainInputs,
  olds: Partial<DomainInputs>,
  ctx: ResourceContext,
): Promise<CheckFailure[]> {
  const nics = Array.isArray(inputs.networkInterfaces) ? inputs.networkInterfaces : [];
  const before = Array.isArray(olds.networkInterfaces) ? olds.networkInterfaces : [];
  const failures: CheckFailure[] = [];
  let lv: Libvirt | undefined;
  for (const [index, { network, address }] of nics.entries()) {
    if (typeof network !== "string" || typeof address !== "string") continue;
    if (network === UNKNOWN || address === UNKNOWN || !isIP(address)) continue;
    if (before.some((old) => old.network === network && old.address === address)) continue;
    lv ??= await ctx.connect(inputs.host);
    const root = await networkXml(lv, network);
    if (!root) continue; // made later by the same program, perhaps: up decides
    const ips = elements(root, "ip");
    if (ips.some((ip) => holds(ip, address))) continue;
    const reason = outside(`networkInterfaces[${index}]`, address, network, ips);
    const owner = markIn(root);
    if (owner !== undefined && sameStack(owner, ctx.owner?.mark)) {
      ctx.warn(
        `virtwire: domain ${inputs.name}: ${reason}, unless this update changes the network`,
      );
    } else failures.push({ property: `networkInterfaces[${index}].address`, reason });
  }
  return failures;
}

function prefixOf(ip: XmlNode): number {
  const prefix = attr(ip, "prefix");
  if (prefix !== undefined) return Number(prefix);
  const mask = attr(ip, "netmask");
  if (mask === undefined) return isIPv6(attr(ip, "address") ?? "") ? 64 : 24;
  return mask
    .split(".")
    .reduce((bits, part) => bits + Number(part).toString(2).split("1").length - 1, 0);
}

function holds(ip: XmlNode, address: string): boolean {
  const network = attr(ip, "address");
  if (network === undefined) return false;
  const family = isIPv6(network) ? "ipv6" : "ipv4";
  if (isIPv6(address) !== (family === "ipv6")) return false;
  const list = new BlockList();
  list.addSubnet(network, prefixOf(ip), family);
  return list.check(address, family);
}

/**
 * `address` and `hostname` of each marked interface, from its network's DHCP hosts (each network
 * read once). Interfaces not marked, or whose network is gone, are left as they are.
 */
export async function withDhcpEntries(
  lv: Libvirt,
  nics: DomainNetworkInterface[],
  marked: Set<string>,
): Promise<DomainNetworkInterface[]> {
  const networks = new Map<string, Promise<XmlNode[]>>();
  const hostsOf = (name: string) => {
    if (!networks.has(name)) networks.set(name, networkHosts(lv, name));
    return networks.get(name)!;
  };
  return Promise.all(
    nics.map(async (nic) => {
      if (nic.network === undefined || !nic.mac || !marked.has(nic.mac)) return nic;
      const host = (await hostsOf(nic.network)).find(
        (item) => attr(item, "mac")?.toLowerCase() === nic.mac,
      );
      const ip = attr(host, "ip");
      if (ip === undefined) return nic;
      const name = attr(host, "name");
      return { ...nic, address: ip, ...(name !== undefined && { hostname: name }) };
    }),
  );
}

async function networkHosts(lv: Libvirt, name: string): Promise<XmlNode[]> {
  // A network that is gone has no entries to report.
  return elements(await networkXml(lv, name), "ip").flatMap((ip) =>
    elements(element(ip, "dhcp"), "host"),
  );
}

/** A network's config, or undefined when there is no such network. */
async function networkXml(lv: Libvirt, name: string): Promise<XmlNode | undefined> {
  try {
    const { net } = await lv.NetworkLookupByName({ name });
    const { xml } = await lv.NetworkGetXMLDesc({ net, flags: NetworkXMLFlags.INACTIVE });
    return parseXml(xml, "network");
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
