/**
 * Network: define → start → autostart on create (undone if a step fails). Static DHCP hosts, DHCP
 * ranges, DNS hosts, SRV and TXT records and port groups are edited live (NETWORK_UPDATE on the running network and its config), so
 * attached guests keep their link; see changes.ts for what replaces the network instead. An `auto`
 * address is chosen at create and is from then on the subnet the network has (auto.ts).
 */
import {
  AffectFlags,
  Libvirt,
  NetworkUpdateCommand as Command,
  NetworkUpdateSection as Section,
  NetworkXMLFlags,
  RemoteNonnullNetwork,
  formatUuid,
  networkUpdate,
  parseUuid,
} from "../../rpc";
import { fillDefaults } from "../kit/check";
import { preserveUserIntent, schemaDiff } from "../kit/diff";
import { unlessNotFound } from "../kit/not-found";
import { NotFoundError, lookupByUuidOrName } from "../kit/get";
import type { ResourceHandlers } from "../kit/resource";
import type { NetworkAddress, NetworkInputs, NetworkOutputs } from "../kit/generated/types";
import {
  addressLayout,
  asGiven,
  dhcpDiffers,
  dnsKey,
  hostKey,
  ipKey,
  listEdit,
  rangeKey,
  sameSet,
} from "./changes";
import { keepChosen } from "./auto";
import {
  SET_PROPERTIES,
  applyRecordEdits,
  changedSets,
  forwarderKey,
  portGroupKey,
  routeKey,
  srvKey,
  txtKey,
} from "./records";
import { checkNetwork } from "./check";
import { defineAndStart } from "./claim";
import { leaveDomainHosts } from "./domain-hosts";
import { preflightNetwork } from "./preflight";
import { removeLeftoverNetworks, removeNetwork, undoNetwork } from "./removal";
import { fragments, readNetworkXml } from "./xml";

export const networkHandlers: ResourceHandlers<NetworkInputs, NetworkOutputs> = {
  check: checkNetwork,

  preflight: preflightNetwork,

  diff(_id, olds, given) {
    // An `auto` address the network already has a subnet for is that subnet.
    const news = { ...given, addresses: keepChosen(given.addresses, olds.addresses) };
    const result = schemaDiff("Network", olds, news);
    const changed = new Set(result.changed);
    // Lists compare as sets; addresses split into what replaces and what changes live.
    changed.delete("addresses");
    changed.delete("dnsHosts");
    for (const name of Object.keys(SET_PROPERTIES)) changed.delete(name);
    for (const name of changedSets(olds, news)) changed.add(name);
    const replaces = result.replaces.filter((name) => changed.has(name));
    if (addressLayout(olds.addresses) !== addressLayout(news.addresses)) {
      changed.add("addresses");
      replaces.push("addresses");
    } else if (dhcpDiffers(olds.addresses, news.addresses)) {
      changed.add("addresses");
    }
    if (!sameSet(olds.dnsHosts, news.dnsHosts, dnsKey)) changed.add("dnsHosts");
    // Two networks cannot hold the same addresses or bridge at once: the old one goes first, also
    // when `replaceOnChanges` asks for the replacement (the engine takes this flag then too).
    return {
      changes: changed.size > 0 || olds.active === false,
      replaces,
      changed: [...changed],
      deleteBeforeReplace: true,
    };
  },

  async create(given, ctx) {
    const inputs = fillDefaults("Network", given);
    const lv = await ctx.connect(inputs.host);
    await removeLeftoverNetworks(lv, inputs.name, ctx);
    const { net, made } = await defineAndStart(lv, inputs, ctx);
    // Until the engine has the id, a failure must remove the network: describing it is part of that.
    try {
      await lv.NetworkSetAutostart({ net, autostart: inputs.autostart ? 1 : 0 });
      return { id: formatUuid(net.uuid), outs: await describe(lv, net, made) };
    } catch (error) {
      throw await undoNetwork(ctx, error, net, inputs.host);
    }
  },

  async get(id, state, ctx) {
    const lv = await ctx.connect(state.host);
    const net = await lookupByUuidOrName(
      id,
      async (uuid) => (await lv.NetworkLookupByUUID({ uuid })).net,
      async (name) => (await lv.NetworkLookupByName({ name })).net,
    );
    if (!net) {
      throw new NotFoundError(
        "network",
        id,
        "UUID or name",
        " (virsh net-list --all lists the networks of a host)",
      );
    }
    const outs = await describe(lv, net, { host: state.host }, true);
    return { id: formatUuid(net.uuid), outs };
  },

  async read(id, props, ctx) {
    const lv = await ctx.connect(props.host);
    const net = await lookup(lv, id);
    // Undefined between the lookup and the description is gone too.
    return net && unlessNotFound(() => describe(lv, net, props));
  },

  async update(id, olds, given, ctx) {
    const news = { ...given, addresses: keepChosen(given.addresses, olds.addresses) };
    const lv = await ctx.connect(news.host);
    const net = await lookup(lv, id);
    if (!net) throw new Error(`network ${olds.name} (${id}) no longer exists; run pulumi refresh`);
    const { active } = await lv.NetworkIsActive({ net });
    const flags = active ? AffectFlags.LIVE | AffectFlags.CONFIG : AffectFlags.CONFIG;
    await applyLiveEdits(lv, net, olds, news, flags);
    if (!active) await lv.NetworkCreate({ net });
    await lv.NetworkSetAutostart({ net, autostart: news.autostart ? 1 : 0 });
    return describe(lv, net, news);
  },

  async delete(id, props, ctx) {
    const lv = await ctx.connect(props.host);
    const net = await lookup(lv, id);
    if (!net) return;
    await removeNetwork(lv, net);
  },
};

/** Deletes first, then adds, so an address can move from one MAC to another. */
async function applyLiveEdits(
  lv: Libvirt,
  net: RemoteNonnullNetwork,
  olds: NetworkOutputs,
  news: NetworkInputs,
  flags: number,
): Promise<void> {
  const update = (command: Command, section: Section, parentIndex: number, xml: string) =>
    networkUpdate(lv, net, command, section, parentIndex, xml, flags);
  const addresses: (NetworkAddress | undefined)[] = news.addresses ?? [];
  for (const [index, address] of addresses.entries()) {
    const before = olds.addresses?.[index]?.dhcp;
    const after = address?.dhcp;
    const hosts = listEdit(before?.hosts, after?.hosts, hostKey);
    const ranges = listEdit(before?.ranges, after?.ranges, rangeKey);
    // The state lists a host a domain claims only when the inputs declared it (domain-hosts.ts).
    for (const host of hosts.remove)
      await update(Command.DELETE, Section.IP_DHCP_HOST, index, fragments.dhcpHost(host));
    for (const range of ranges.remove)
      await update(Command.DELETE, Section.IP_DHCP_RANGE, index, fragments.dhcpRange(range));
    for (const range of ranges.add)
      await update(Command.ADD_LAST, Section.IP_DHCP_RANGE, index, fragments.dhcpRange(range));
    for (const host of hosts.add)
      await update(Command.ADD_LAST, Section.IP_DHCP_HOST, index, fragments.dhcpHost(host));
  }
  const dns = listEdit(olds.dnsHosts, news.dnsHosts, dnsKey);
  for (const host of dns.remove)
    await update(Command.DELETE, Section.DNS_HOST, -1, fragments.dnsHost(host));
  for (const host of dns.add)
    await update(Command.ADD_LAST, Section.DNS_HOST, -1, fragments.dnsHost(host));
  await applyRecordEdits(update, olds, news);
}

function lookup(lv: Libvirt, id: string): Promise<RemoteNonnullNetwork | undefined> {
  return unlessNotFound(async () => (await lv.NetworkLookupByUUID({ uuid: parseUuid(id) })).net);
}

/**
 * The network as libvirt has it; of the input properties, only those set in `previous` (user
 * intent, resources/kit/diff.ts), or every one when `complete` (a get). Lists come in the order the
 * user gave them where libvirt keeps the same items.
 */
async function describe(
  lv: Libvirt,
  net: RemoteNonnullNetwork,
  previous: Partial<NetworkInputs | NetworkOutputs>,
  complete = false,
): Promise<NetworkOutputs> {
  const [{ xml }, { active }, { autostart }] = await Promise.all([
    lv.NetworkGetXMLDesc({ net, flags: NetworkXMLFlags.INACTIVE }),
    lv.NetworkIsActive({ net }),
    lv.NetworkGetAutostart({ net }),
  ]);
  const config = readNetworkXml(xml);
  const bridgeName = active ? (await lv.NetworkGetBridgeName({ net })).name : config.bridge.name;
  // Hosts a domain made are not the network's (domain-hosts.ts).
  const kept = await leaveDomainHosts(lv, config.name, config.addresses, previous.addresses);
  const addresses = kept.map((read, index) => {
    const given = previous.addresses?.[index];
    const address =
      given && ipKey(given.address) === ipKey(read.address)
        ? { ...read, address: given.address }
        : read;
    if (!address.dhcp) return address;
    return {
      ...address,
      dhcp: {
        ranges: asGiven(given?.dhcp?.ranges, address.dhcp.ranges ?? [], rangeKey),
        hosts: asGiven(given?.dhcp?.hosts, address.dhcp.hosts ?? [], hostKey),
      },
    };
  });
  const outputs: NetworkOutputs = {
    name: config.name,
    mode: config.mode,
    bridge: config.bridge,
    forwardDevice: config.forwardDevice,
    domain: config.domain,
    addresses,
    dnsHosts: asGiven(previous.dnsHosts, config.dnsHosts, dnsKey),
    mtu: config.mtu,
    routes: asGiven(previous.routes, config.routes ?? [], routeKey),
    dnsForwarders: asGiven(previous.dnsForwarders, config.dnsForwarders ?? [], forwarderKey),
    dnsSrvRecords: asGiven(previous.dnsSrvRecords, config.dnsSrvRecords ?? [], srvKey),
    dnsTxtRecords: asGiven(previous.dnsTxtRecords, config.dnsTxtRecords ?? [], txtKey),
    dnsLocalOnly: config.dnsLocalOnly,
    dnsmasqOptions: config.dnsmasqOptions,
    nat: config.nat,
    bandwidth: config.bandwidth,
    portGroups: asGiven(previous.portGroups, config.portGroups ?? [], portGroupKey),
    autostart: autostart === 1,
    host: previous.host,
    uuid: formatUuid(net.uuid),
    bridgeName,
    active: active === 1,
  };
  return complete ? outputs : preserveUserIntent("Network", previous, outputs);
}
