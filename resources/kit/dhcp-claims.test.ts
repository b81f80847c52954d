import { claimedIn, dhcpAlias, isDhcpAlias } from "./dhcp-claims";

const domain = (interfaces: string) =>
  `<domain type="qemu"><name>vm</name><devices>${interfaces}</devices></domain>`;

const nic = (mac: string, network: string, alias?: string) =>
  `<interface type="network"><mac address="${mac}"/><source network="${network}"/>` +
  (alias ? `<alias name="${alias}"/>` : "") +
  `</interface>`;

describe("the mark of a DHCP entry a domain made", () => {
  it("names the MAC in lower case without colons, as a user alias", () => {
    expect(dhcpAlias("52:54:00:AA:BB:01")).toBe("ua-vw-dhcp-525400aabb01");
    expect(isDhcpAlias("ua-vw-dhcp-525400aabb01")).toBe(true);
    expect(isDhcpAlias("ua-disk0")).toBe(false);
    expect(isDhcpAlias(undefined)).toBe(false);
  });

  it("claims the MAC of a marked interface on the network asked about", () => {
    const xml = domain(nic("52:54:00:AA:BB:01", "lab", "ua-vw-dhcp-525400aabb01"));
    expect(claimedIn(xml, "lab")).toEqual(["52:54:00:aa:bb:01"]);
  });

  it("claims nothing on another network, for an unmarked interface, or for another MAC's alias", () => {
    expect(
      claimedIn(domain(nic("52:54:00:aa:bb:01", "lab", dhcpAlias("52:54:00:aa:bb:01"))), "other"),
    ).toEqual([]);
    expect(claimedIn(domain(nic("52:54:00:aa:bb:01", "lab")), "lab")).toEqual([]);
    expect(claimedIn(domain(nic("52:54:00:aa:bb:01", "lab", "ua-net0")), "lab")).toEqual([]);
    expect(
      claimedIn(domain(nic("52:54:00:aa:bb:01", "lab", dhcpAlias("52:54:00:aa:bb:02"))), "lab"),
    ).toEqual([]);
  });

  it("claims nothing for a domain without devices or interfaces", () => {
    expect(claimedIn("<domain><name>vm</name></domain>", "lab")).toEqual([]);
    expect(claimedIn(domain('<disk type="file"/>'), "lab")).toEqual([]);
  });
});
