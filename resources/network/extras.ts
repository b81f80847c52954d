/**
 * Network XML beyond addresses and DNS hosts (https://libvirt.org/formatnetwork.html):
 *
 *   <forward mode="nat"><nat><address start end/><port start end/></nat></forward>
 *   <domain name="…" localOnly="yes"/>
 *   <dns> <forwarder addr="…" domain="…"/> <txt name value/>
 *         <srv service protocol domain target port priority weight/> </dns>
 *   <bandwidth> <inbound average peak burst/> <outbound …/> </bandwidth>
 *   <portgroup name default="yes"> <bandwidth>…</bandwidth> </portgroup>
 *   <route [family="ipv6"] address prefix gateway metric/>
 *   <dnsmasq:options xmlns:dnsmasq="http://libvirt.org/schemas/network/dnsmasq/1.0">
 *     <dnsmasq:option value="…"/> </dnsmasq:options>
 *
 * libvirt leaves out an SRV record's port, priority and weight when they are 0, and a port group's
 * default when it is not: those read back as unset (keys in changes.ts treat both alike).
 */
import { create } from "../kit/xmlbuilder";
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces";
import type {
  NetworkBandwidth,
  NetworkBandwidthLimit,
  NetworkDnsForwarder,
  NetworkDnsSrvRecord,
  NetworkDnsTxtRecord,
  NetworkInputs,
  NetworkNat,
  NetworkPortGroup,
} from "../kit/generated/types";
import { attr, element, elements, XmlNode } from "../kit/xml";

const DNSMASQ_NAMESPACE = "http://libvirt.org/schemas/network/dnsmasq/1.0";

/** The inputs this file builds and reads. */
export type NetworkExtras = Pick<
  NetworkInputs,
  | "routes"
  | "dnsForwarders"
  | "dnsSrvRecords"
  | "dnsTxtRecords"
  | "dnsLocalOnly"
  | "dnsmasqOptions"
  | "nat"
  | "bandwidth"
  | "portGroups"
>;

const defined = (values: Record<string, string | number | undefined>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(values)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => [key, String(value)]),
  );

export function addNat(forward: XMLBuilder, nat: NetworkNat | undefined): void {
  if (!nat) return;
  const hasAddress = nat.addressStart !== undefined || nat.addressEnd !== undefined;
  const hasPort = nat.portStart !== undefined || nat.portEnd !== undefined;
  if (!hasAddress && !hasPort) return;
  const node = forward.ele("nat");
  if (hasAddress) node.ele("address", defined({ start: nat.addressStart, end: nat.addressEnd }));
  if (hasPort) node.ele("port", defined({ start: nat.portStart, end: nat.portEnd }));
}

/** The records that go into `<dns>` after its hosts. */
export function addDnsExtras(dns: XMLBuilder, inputs: NetworkExtras): void {
  for (const forwarder of inputs.dnsForwarders ?? []) {
    dns.ele("forwarder", defined({ addr: forwarder.address, domain: forwarder.domain }));
  }
  for (const txt of inputs.dnsTxtRecords ?? []) dns.ele("txt", txtAttributes(txt));
  for (const srv of inputs.dnsSrvRecords ?? []) dns.ele("srv", srvAttributes(srv));
}

export function hasDnsExtras(inputs: NetworkExtras): boolean {
  return Boolean(
    inputs.dnsForwarders?.length || inputs.dnsTxtRecords?.length || inputs.dnsSrvRecords?.length,
  );
}

/** Bandwidth, port groups, routes and dnsmasq options, after the `<ip>` elements. */
export function addExtras(network: XMLBuilder, inputs: NetworkExtras): void {
  addBandwidth(network, inputs.bandwidth);
  for (const group of inputs.portGroups ?? []) addPortGroup(network, group);
  for (const route of inputs.routes ?? []) {
    network.ele(
      "route",
      defined({
        family: route.address.includes(":") ? "ipv6" : undefined,
        address: route.address,
        prefix: route.prefix,
        gateway: route.gateway,
        metric: route.metric,
      }),
    );
  }
  if (inputs.dnsmasqOptions?.length) {
    const options = network.ele(DNSMASQ_NAMESPACE, "dnsmasq:options");
    for (const value of inputs.dnsmasqOptions) {
      options.ele(DNSMASQ_NAMESPACE, "dnsmasq:option", { value });
    }
  }
}

function addBandwidth(parent: XMLBuilder, bandwidth: NetworkBandwidth | undefined): void {
  if (!bandwidth?.inbound && !bandwidth?.outbound) return;
  const node = parent.ele("bandwidth");
  for (const direction of ["inbound", "outbound"] as const) {
    const limit = bandwidth[direction];
    if (limit) node.ele(direction, defined({ ...limit }));
  }
}

function addPortGroup(parent: XMLBuilder, group: NetworkPortGroup): XMLBuilder {
  const node = parent.ele("portgroup", {
    name: group.name,
    ...(group.default ? { default: "yes" } : {}),
  });
  addBandwidth(node, group.bandwidth);
  return node;
}

function txtAttributes(txt: NetworkDnsTxtRecord): Record<string, string> {
  return { name: txt.name, value: txt.value };
}

function srvAttributes(srv: NetworkDnsSrvRecord): Record<string, string> {
  return defined({
    service: srv.service,
    protocol: srv.protocol,
    domain: srv.domain,
    target: srv.target,
    port: srv.port || undefined,
    priority: srv.priority || undefined,
    weight: srv.weight || undefined,
  });
}

/** The XML fragments NETWORK_UPDATE takes for one SRV or TXT record or port group. */
export const extraFragments = {
  txt: (txt: NetworkDnsTxtRecord) =>
    create().ele("txt", txtAttributes(txt)).end({ headless: true }),
  srv: (srv: NetworkDnsSrvRecord) =>
    create().ele("srv", srvAttributes(srv)).end({ headless: true }),
  portGroup: (group: NetworkPortGroup) => addPortGroup(create(), group).end({ headless: true }),
};

const number = (text: string | undefined): number | undefined =>
  text === undefined ? undefined : Number(text);

function readBandwidth(node: XmlNode | undefined): NetworkBandwidth | undefined {
  const bandwidth = element(node, "bandwidth");
  if (!bandwidth) return undefined;
  const limit = (direction: string): NetworkBandwidthLimit | undefined => {
    const at = element(bandwidth, direction);
    if (!at) return undefined;
    return dropUnset({
      average: number(attr(at, "average")) ?? 0,
      peak: number(attr(at, "peak")),
      burst: number(attr(at, "burst")),
    });
  };
  return dropUnset({ inbound: limit("inbound"), outbound: limit("outbound") });
}

/** The new properties as libvirt describes them; unset where the XML has nothing. */
export function readExtras(network: XmlNode): NetworkExtras {
  const dns = element(network, "dns");
  const nat = element(element(network, "forward"), "nat");
  const natAddress = element(nat, "address");
  const natPort = element(nat, "port");
  const options = element(network, "dnsmasq:options");
  return {
    routes: elements(network, "route").map((route) =>
      dropUnset({
        address: attr(route, "address") ?? "",
        prefix: Number(attr(route, "prefix") ?? 0),
        gateway: attr(route, "gateway") ?? "",
        metric: number(attr(route, "metric")),
      }),
    ),
    dnsForwarders: elements(dns, "forwarder").map((forwarder): NetworkDnsForwarder =>
      dropUnset({ address: attr(forwarder, "addr"), domain: attr(forwarder, "domain") }),
    ),
    dnsTxtRecords: elements(dns, "txt").map((txt) => ({
      name: attr(txt, "name") ?? "",
      value: attr(txt, "value") ?? "",
    })),
    dnsSrvRecords: elements(dns, "srv").map((srv): NetworkDnsSrvRecord =>
      dropUnset({
        service: attr(srv, "service") ?? "",
        protocol: (attr(srv, "protocol") ?? "tcp") as NetworkDnsSrvRecord["protocol"],
        domain: attr(srv, "domain"),
        target: attr(srv, "target"),
        port: number(attr(srv, "port")),
        priority: number(attr(srv, "priority")),
        weight: number(attr(srv, "weight")),
      }),
    ),
    dnsLocalOnly: attr(element(network, "domain"), "localOnly") === "yes",
    dnsmasqOptions: elements(options, "dnsmasq:option").map(
      (option) => attr(option, "value") ?? "",
    ),
    nat:
      nat === undefined
        ? undefined
        : dropUnset({
            addressStart: attr(natAddress, "start"),
            addressEnd: attr(natAddress, "end"),
            portStart: number(attr(natPort, "start")),
            portEnd: number(attr(natPort, "end")),
          }),
    bandwidth: readBandwidth(network),
    portGroups: elements(network, "portgroup").map((group) =>
      dropUnset({
        name: attr(group, "name") ?? "",
        default: attr(group, "default") === "yes" ? true : undefined,
        bandwidth: readBandwidth(group),
      }),
    ),
  };
}

/** `value` without its undefined keys, so read-back compares equal to inputs that leave them out. */
function dropUnset<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}
