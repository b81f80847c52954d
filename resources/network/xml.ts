/**
 * Network XML (https://libvirt.org/formatnetwork.html), built from a Network's inputs and read
 * back from libvirt's description:
 *
 *   <network>
 *     <name/>  <metadata><virtwire:resource urn/></metadata>?
 *     <forward mode="nat|route|open|bridge" dev="…"/>  (no <forward>: isolated)
 *     <bridge name="…" stp="on|off" delay="0"/>  <mtu size="…"/>  <domain name="…"/>
 *     <dns> <host ip="…"><hostname>…</hostname></host> </dns>
 *     <ip address="…" prefix="…" [family="ipv6"]>
 *       <dhcp> <range start="…" end="…"/> <host mac="…" ip="…" name="…"/> </dhcp>
 *     </ip>
 *     … and NAT ranges, DNS forwarders, SRV and TXT records, bandwidth, port groups, routes and
 *     dnsmasq options (extras.ts)
 *   </network>
 */
import { create } from "../kit/xmlbuilder";
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces";
import type {
  NetworkAddress,
  NetworkBridge,
  NetworkDhcpHost,
  NetworkDhcpRange,
  NetworkDnsHost,
  NetworkInputs,
  NetworkMode,
} from "../kit/generated/types";
import { attr, element, elements, parseXml, text, XmlNode } from "../kit/xml";
import type { CheckedNetworkInputs } from "../kit/generated/checked";
import type { Owner } from "../kit/owner";
import { addMark } from "../kit/xml-mark";
import { NetworkExtras, addDnsExtras, addExtras, addNat, hasDnsExtras, readExtras } from "./extras";

/** `owner`: the resource, whose mark is written into the XML (resources/kit/owner.ts). */
export function buildNetworkXml(
  inputs: NetworkInputs & Pick<CheckedNetworkInputs, "name" | "mode">,
  owner?: Owner,
): string {
  const network = create().ele("network");
  network.ele("name").txt(inputs.name);
  if (owner) addMark(network, owner);
  const mode = inputs.mode;
  if (mode !== "isolated") {
    const forward = network.ele("forward", {
      mode,
      ...(inputs.forwardDevice ? { dev: inputs.forwardDevice } : {}),
    });
    if (mode === "nat") addNat(forward, inputs.nat);
  }
  const bridge = inputs.bridge;
  if (bridge && (bridge.name || bridge.stp !== undefined || bridge.delay !== undefined)) {
    network.ele("bridge", {
      ...(bridge.name ? { name: bridge.name } : {}),
      ...(bridge.stp !== undefined ? { stp: bridge.stp ? "on" : "off" } : {}),
      ...(bridge.delay !== undefined ? { delay: String(bridge.delay) } : {}),
    });
  }
  if (inputs.mtu !== undefined) network.ele("mtu", { size: String(inputs.mtu) });
  if (inputs.domain) {
    network.ele("domain", {
      name: inputs.domain,
      ...(inputs.dnsLocalOnly ? { localOnly: "yes" } : {}),
    });
  }
  if (inputs.dnsHosts?.length || hasDnsExtras(inputs)) {
    const dns = network.ele("dns");
    for (const host of inputs.dnsHosts ?? []) addDnsHost(dns, host);
    addDnsExtras(dns, inputs);
  }
  for (const address of inputs.addresses ?? []) {
    const ip = network.ele("ip", {
      address: address.address,
      prefix: String(address.prefix),
      ...(isIpv6(address.address) ? { family: "ipv6" } : {}),
    });
    const dhcp = address.dhcp;
    if (dhcp && (dhcp.ranges?.length || dhcp.hosts?.length)) {
      const node = ip.ele("dhcp");
      for (const range of dhcp.ranges ?? []) node.ele("range", rangeAttributes(range));
      for (const host of dhcp.hosts ?? []) node.ele("host", dhcpHostAttributes(host));
    }
  }
  addExtras(network, inputs);
  return network.end({ headless: true, prettyPrint: true });
}

function addDnsHost(parent: XMLBuilder, host: NetworkDnsHost): XMLBuilder {
  const node = parent.ele("host", { ip: host.ip });
  for (const name of host.hostnames) node.ele("hostname").txt(name);
  return node;
}

function rangeAttributes(range: NetworkDhcpRange): Record<string, string> {
  return { start: range.start, end: range.end };
}

function dhcpHostAttributes(host: NetworkDhcpHost): Record<string, string> {
  return {
    ...(host.mac ? { mac: host.mac.toLowerCase() } : {}),
    ...(host.name ? { name: host.name } : {}),
    ip: host.ip,
  };
}

/** The XML fragment NETWORK_UPDATE takes for one DHCP host, range or DNS host. */
export const fragments = {
  dhcpHost: (host: NetworkDhcpHost) =>
    create().ele("host", dhcpHostAttributes(host)).end({ headless: true }),
  dhcpRange: (range: NetworkDhcpRange) =>
    create().ele("range", rangeAttributes(range)).end({ headless: true }),
  dnsHost: (host: NetworkDnsHost) => addDnsHost(create(), host).end({ headless: true }),
};

export interface NetworkDescription extends NetworkExtras {
  name: string;
  mode: NetworkMode;
  forwardDevice?: string;
  bridge: NetworkBridge;
  mtu?: number;
  domain?: string;
  addresses: NetworkAddress[];
  dnsHosts: NetworkDnsHost[];
}

export function readNetworkXml(xml: string): NetworkDescription {
  return readNetworkNode(parseXml(xml, "network"));
}

/** readNetworkXml of a `<network>` already parsed (for callers that read its mark too). */
export function readNetworkNode(network: XmlNode): NetworkDescription {
  const forward = element(network, "forward");
  const bridge = element(network, "bridge");
  const mtu = attr(element(network, "mtu"), "size");
  const delay = attr(bridge, "delay");
  const stp = attr(bridge, "stp");
  return {
    name: text(network, "name") ?? "",
    // libvirt's default, not ours: a <forward> without a mode is NAT (network_conf.c).
    mode: forward === undefined ? "isolated" : ((attr(forward, "mode") ?? "nat") as NetworkMode),
    forwardDevice: attr(forward, "dev"),
    bridge: {
      name: attr(bridge, "name"),
      stp: stp === undefined ? undefined : stp === "on",
      delay: delay === undefined ? undefined : Number(delay),
    },
    mtu: mtu === undefined ? undefined : Number(mtu),
    domain: attr(element(network, "domain"), "name"),
    addresses: elements(network, "ip").map(readAddress),
    dnsHosts: elements(element(network, "dns"), "host").map((host) => ({
      ip: attr(host, "ip") ?? "",
      hostnames: elements(host, "hostname").map((name) => text(name) ?? ""),
    })),
    ...readExtras(network),
  };
}

function readAddress(ip: XmlNode): NetworkAddress {
  const dhcp = element(ip, "dhcp");
  const netmask = attr(ip, "netmask");
  const prefix = attr(ip, "prefix");
  return {
    address: attr(ip, "address") ?? "",
    prefix: prefix !== undefined ? Number(prefix) : netmask ? netmaskToPrefix(netmask) : 0,
    dhcp:
      dhcp === undefined
        ? undefined
        : {
            ranges: elements(dhcp, "range").map((range) => ({
              start: attr(range, "start") ?? "",
              end: attr(range, "end") ?? "",
            })),
            hosts: elements(dhcp, "host").map((host) => ({
              mac: attr(host, "mac"),
              ip: attr(host, "ip") ?? "",
              name: attr(host, "name"),
            })),
          },
  };
}

export function isIpv6(address: string): boolean {
  return address.includes(":");
}

function netmaskToPrefix(netmask: string): number {
  return netmask
    .split(".")
    .map((octet) => Number(octet).toString(2).replace(/0/g, "").length)
    .reduce((sum, bits) => sum + bits, 0);
}
