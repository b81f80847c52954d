/**
 * A network interface in the domain XML (https://libvirt.org/formatdomain.html#network-interfaces),
 * written and read back:
 *
 *   <interface type="network|bridge|direct">
 *     <mac address="…"/>?
 *     <source network="…"/> | <source bridge="…"/> | <source dev="eth0" mode="vepa|bridge|private|passthrough"/>
 *     <model type="virtio"/>?
 *     <filterref filter="clean-traffic"> <parameter name="IP" value="…"/>* </filterref>?
 *     <bandwidth> <inbound average="…" peak="…"? burst="…"?/>? <outbound …/>? </bandwidth>?
 *     <link state="up|down"/>?
 *     <mtu size="…"/>?
 *     <alias name="ua-vw-dhcp-…"/>?   (an interface with an `address`, nic-dhcp.ts)
 *   </interface>
 *
 * libvirt adds a target (vnetN), an alias and a PCI address of its own: never read. It writes
 * `<link>` only when a state was given, and a direct interface's mode always.
 */
import { randomBytes } from "node:crypto";
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces";
import { attr, element, elements } from "../kit/xml";
import type { XmlNode } from "../kit/xml";
import type {
  DomainBandwidth,
  DomainBandwidthLimit,
  DomainDirectMode,
  DomainFilterRef,
  DomainLinkState,
  DomainNetworkInterface,
} from "../kit/generated/types";
import { dhcpAlias, isDhcpAlias } from "../kit/dhcp-claims";

export function addInterface(parent: XMLBuilder, nic: DomainNetworkInterface): void {
  const type = nic.network !== undefined ? "network" : nic.direct ? "direct" : "bridge";
  const node = parent.ele("interface", { type });
  if (nic.mac) node.ele("mac", { address: nic.mac });
  if (nic.network !== undefined) node.ele("source", { network: nic.network });
  else if (nic.direct) {
    const source = node.ele("source", { dev: nic.direct.device });
    if (nic.direct.mode !== undefined) source.att("mode", nic.direct.mode);
  } else node.ele("source", { bridge: nic.bridge });
  // Interfaces read back from libvirt (to detach them) may have no model; planned ones always do.
  if (nic.model !== undefined) node.ele("model", { type: nic.model });
  if (nic.filter) {
    const ref = node.ele("filterref", { filter: nic.filter.name });
    for (const [name, value] of Object.entries(nic.filter.parameters ?? {}))
      ref.ele("parameter", { name, value });
  }
  if (nic.bandwidth) addBandwidth(node, nic.bandwidth);
  if (nic.linkState !== undefined) node.ele("link", { state: nic.linkState });
  if (nic.mtu !== undefined) node.ele("mtu", { size: String(nic.mtu) });
  // The mark of an interface whose DHCP host entry the domain keeps (nic-dhcp.ts).
  if (nic.address !== undefined && nic.mac) node.ele("alias", { name: dhcpAlias(nic.mac) });
}

/** A locally administered address in QEMU's 52:54:00 range, as libvirt generates them. */
export function randomMac(): string {
  const tail = [...randomBytes(3)].map((byte) => byte.toString(16).padStart(2, "0"));
  return ["52", "54", "00", ...tail].join(":");
}

/** The MACs of the interfaces marked as keeping a DHCP host entry. */
export function dhcpMarkedMacs(devices: XmlNode | undefined): string[] {
  return elements(devices, "interface").flatMap((nic) => {
    const mac = attr(element(nic, "mac"), "address")?.toLowerCase();
    return mac && isDhcpAlias(attr(element(nic, "alias"), "name")) ? [mac] : [];
  });
}

function addBandwidth(node: XMLBuilder, bandwidth: DomainBandwidth): void {
  const { inbound, outbound } = bandwidth;
  if (!inbound && !outbound) return;
  const shaping = node.ele("bandwidth");
  for (const [name, limit] of [
    ["inbound", inbound],
    ["outbound", outbound],
  ] as const) {
    if (!limit) continue;
    const rates: Record<string, string> = { average: String(limit.average) };
    if (limit.peak !== undefined) rates.peak = String(limit.peak);
    if (limit.burst !== undefined) rates.burst = String(limit.burst);
    shaping.ele(name, rates);
  }
}

/** An interface virtwire models, or none (user-mode, vhost-user… are left alone). */
export function readInterface(nic: XmlNode): DomainNetworkInterface[] {
  const type = attr(nic, "type");
  const source = element(nic, "source");
  const result: DomainNetworkInterface = {
    mac: attr(element(nic, "mac"), "address")?.toLowerCase(),
    model: attr(element(nic, "model"), "type"),
  };
  if (type === "network") result.network = attr(source, "network");
  else if (type === "bridge") result.bridge = attr(source, "bridge");
  else if (type === "direct") {
    // libvirt's default mode, should a hand-written domain lack one: vepa (domain_conf.c).
    const mode = (attr(source, "mode") ?? "vepa") as DomainDirectMode;
    result.direct = { device: attr(source, "dev") ?? "", mode };
  } else return [];
  const filter = readFilter(element(nic, "filterref"));
  if (filter) result.filter = filter;
  const bandwidth = readBandwidth(element(nic, "bandwidth"));
  if (bandwidth) result.bandwidth = bandwidth;
  // No <link>: libvirt's default, the link is up.
  result.linkState = (attr(element(nic, "link"), "state") ?? "up") as DomainLinkState;
  const mtu = Number(attr(element(nic, "mtu"), "size"));
  if (Number.isInteger(mtu) && mtu > 0) result.mtu = mtu;
  return [result];
}

function readFilter(node: XmlNode | undefined): DomainFilterRef | undefined {
  const name = attr(node, "filter");
  if (node === undefined || name === undefined) return undefined;
  const parameters: Record<string, string> = {};
  for (const parameter of elements(node, "parameter")) {
    const key = attr(parameter, "name");
    if (key !== undefined) parameters[key] = attr(parameter, "value") ?? "";
  }
  return Object.keys(parameters).length > 0 ? { name, parameters } : { name };
}

function readBandwidth(node: XmlNode | undefined): DomainBandwidth | undefined {
  if (node === undefined) return undefined;
  const result: DomainBandwidth = {};
  for (const name of ["inbound", "outbound"] as const) {
    const limit = readLimit(element(node, name));
    if (limit) result[name] = limit;
  }
  return result.inbound || result.outbound ? result : undefined;
}

function readLimit(node: XmlNode | undefined): DomainBandwidthLimit | undefined {
  const number = (name: string) => {
    const value = Number(attr(node, name));
    return Number.isInteger(value) && value > 0 ? value : undefined;
  };
  const average = number("average");
  if (average === undefined) return undefined;
  const limit: DomainBandwidthLimit = { average };
  const peak = number("peak");
  const burst = number("burst");
  if (peak !== undefined) limit.peak = peak;
  if (burst !== undefined) limit.burst = burst;
  return limit;
}

/** What an interface is attached to, as one string: `network default`, `bridge br0`, `direct eth0`. */
export function attachmentOf(nic: DomainNetworkInterface): string {
  if (nic.network !== undefined) return `network ${nic.network}`;
  if (nic.direct) return `direct ${nic.direct.device}`;
  return `bridge ${nic.bridge}`;
}
