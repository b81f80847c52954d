/**
 * The mark shared by Domains and Networks for DHCP host entries a Domain made: an interface with
 * a fixed `address` adds `<host mac ip name/>` to its network (resources/domain/nic-dhcp.ts) and
 * carries a user alias naming its MAC, kept in the inactive XML:
 *
 *   <interface type="network"> <mac address="52:54:00:aa:bb:cc"/> <source network="N"/>
 *     <alias name="ua-vw-dhcp-525400aabbcc"/> </interface>
 *
 * A Network leaves the host entries such interfaces claim alone: they are the domain's, not drift.
 */
import { DomainXMLFlags } from "../../rpc";
import type { Libvirt } from "../../rpc";
import { unlessNotFound } from "./not-found";
import { attr, element, elements, parseXml } from "./xml";

const ALIAS_PREFIX = "ua-vw-dhcp-";

/** The alias that marks an interface whose DHCP entry the domain made. */
export function dhcpAlias(mac: string): string {
  return ALIAS_PREFIX + mac.toLowerCase().replace(/:/g, "");
}

export const isDhcpAlias = (alias: string | undefined) => !!alias?.startsWith(ALIAS_PREFIX);

/**
 * The MACs (lower case) whose DHCP entry on `network` a `<domain>` document claims: interfaces of
 * that network marked with the alias of their own MAC.
 */
export function claimedIn(domainXml: string, network: string): string[] {
  const devices = element(parseXml(domainXml, "domain"), "devices");
  return elements(devices, "interface").flatMap((nic) => {
    const mac = attr(element(nic, "mac"), "address")?.toLowerCase();
    if (!mac || attr(element(nic, "source"), "network") !== network) return [];
    return attr(element(nic, "alias"), "name") === dhcpAlias(mac) ? [mac] : [];
  });
}

/** The MACs whose DHCP entry on `network` some domain of the host claims (inactive XML). */
export async function domainClaims(lv: Libvirt, network: string): Promise<Set<string>> {
  const { domains } = await lv.ConnectListAllDomains({ need_results: 1, flags: 0 });
  const found = await Promise.all(
    // A domain that went away meanwhile claims nothing.
    domains.map((dom) =>
      unlessNotFound(() => lv.DomainGetXMLDesc({ dom, flags: DomainXMLFlags.INACTIVE })),
    ),
  );
  return new Set(
    found.flatMap((described) => (described ? claimedIn(described.xml, network) : [])),
  );
}
