/**
 * getDomainInterfaceAddresses: DOMAIN_INTERFACE_ADDRESSES of a running domain, from the source
 * asked for (lease, agent or arp), as typed interfaces.
 */
import { DomainInterfaceAddressesSource, IPAddrType } from "../../rpc";
import type { Libvirt } from "../../rpc";
import type {
  GetDomainInterfaceAddressesArgs,
  GetDomainInterfaceAddressesResult,
  InterfaceAddressSource,
} from "../kit/generated/types";
import { FunctionLookupError, findDomain, uuidText } from "./lookup";

const SOURCES: Record<InterfaceAddressSource, DomainInterfaceAddressesSource> = {
  lease: DomainInterfaceAddressesSource.LEASE,
  agent: DomainInterfaceAddressesSource.AGENT,
  arp: DomainInterfaceAddressesSource.ARP,
};

export async function getDomainInterfaceAddresses(
  lv: Libvirt,
  args: GetDomainInterfaceAddressesArgs,
  host: string,
): Promise<GetDomainInterfaceAddressesResult> {
  const dom = await findDomain(lv, args.domain, host);
  const { active } = await lv.DomainIsActive({ dom });
  if (!active) {
    throw new FunctionLookupError(
      `Domain '${dom.name}' on host ${host} is not running: libvirt reads interface addresses only while a domain runs`,
    );
  }
  const source = args.source ?? "lease";
  const { ifaces } = await lv.DomainInterfaceAddresses({ dom, source: SOURCES[source], flags: 0 });
  return {
    name: dom.name,
    uuid: uuidText(dom),
    interfaces: ifaces.map((iface) => ({
      name: iface.name,
      ...(iface.hwaddr !== null && { mac: iface.hwaddr.toLowerCase() }),
      addresses: iface.addrs.map(({ type, addr, prefix }) => ({
        type: type === IPAddrType.IPV6 ? "ipv6" : "ipv4",
        address: addr,
        prefix,
      })),
    })),
  };
}
