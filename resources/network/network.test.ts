import { markIn } from "../kit/owner";
import { parseXml } from "../kit/xml";
import {
  addressLayout,
  alignTo,
  asGiven,
  dhcpDiffers,
  dnsKey,
  hostKey,
  listEdit,
  rangeKey,
} from "./changes";
import { buildNetworkXml, fragments, readNetworkXml } from "./xml";

const lab = {
  name: "lab",
  mode: "nat" as const,
  autostart: true,
  bridge: { name: "vwbr9", stp: false },
  domain: "lab.internal",
  mtu: 1400,
  addresses: [
    {
      address: "10.9.0.1",
      prefix: 24,
      dhcp: {
        ranges: [{ start: "10.9.0.100", end: "10.9.0.200" }],
        hosts: [{ mac: "52:54:00:AA:BB:01", ip: "10.9.0.5", name: "web" }],
      },
    },
    { address: "fd00:9::1", prefix: 64 },
  ],
  dnsHosts: [{ ip: "10.9.0.5", hostnames: ["web", "www"] }],
};

describe("network XML", () => {
  it("builds libvirt's network document", () => {
    expect(buildNetworkXml(lab)).toMatchSnapshot();
  });

  it("marks the network with the resource's URN, which reading the XML ignores", () => {
    const urn = "urn:pulumi:dev::lab::pulumi-nodejs:dynamic/virtwire:Network::lab";
    const marked = buildNetworkXml(lab, { urn, mark: urn, fresh: true });
    expect(markIn(parseXml(marked, "network"))).toBe(urn);
    expect(readNetworkXml(marked)).toEqual(readNetworkXml(buildNetworkXml(lab)));
  });

  it("leaves <forward> out for an isolated network", () => {
    expect(buildNetworkXml({ ...lab, mode: "isolated" })).not.toContain("<forward");
  });

  it("reads back what it built, with MAC addresses lower-cased", () => {
    const read = readNetworkXml(buildNetworkXml(lab));
    expect(read).toMatchObject({
      name: "lab",
      mode: "nat",
      bridge: { name: "vwbr9", stp: false },
      domain: "lab.internal",
      mtu: 1400,
      dnsHosts: lab.dnsHosts,
    });
    expect(read.addresses[0]!.dhcp!.hosts).toEqual([
      { mac: "52:54:00:aa:bb:01", ip: "10.9.0.5", name: "web" },
    ]);
    expect(read.addresses[1]).toMatchObject({ address: "fd00:9::1", prefix: 64 });
  });

  it("escapes names that would break the XML", () => {
    expect(fragments.dnsHost({ ip: "10.0.0.1", hostnames: ["a<b"] })).toBe(
      '<host ip="10.0.0.1"><hostname>a&lt;b</hostname></host>',
    );
  });
});

describe("network changes", () => {
  it("lists the DHCP hosts to delete and to add, MAC addresses compared without case", () => {
    const before = [
      { mac: "52:54:00:AA:00:01", ip: "10.0.0.1" },
      { mac: "52:54:00:aa:00:02", ip: "10.0.0.2" },
    ];
    const after = [
      { mac: "52:54:00:aa:00:01", ip: "10.0.0.1" },
      { mac: "52:54:00:aa:00:03", ip: "10.0.0.3" },
    ];
    expect(listEdit(before, after, hostKey)).toEqual({ remove: [before[1]], add: [after[1]] });
  });

  it("sees a new static host as a DHCP change, not an address change", () => {
    const more = [
      { ...lab.addresses[0]!, dhcp: { ...lab.addresses[0]!.dhcp, hosts: [] } },
      lab.addresses[1]!,
    ];
    expect(addressLayout(more)).toBe(addressLayout(lab.addresses));
    expect(dhcpDiffers(lab.addresses, more)).toBe(true);
    expect(dhcpDiffers(lab.addresses, lab.addresses)).toBe(false);
  });

  it("orders what libvirt reports like the user's list", () => {
    expect(alignTo(["b", "a"], ["a", "c", "b"], (x) => x)).toEqual(["b", "a", "c"]);
  });

  // Found by generated inputs (seed 473820769, Network case 3): libvirt wrote fdcf:1f15:0287::1
  // back as fdcf:1f15:287::1, and the network was replaced at every up.
  it("compares IP addresses by value, however they are written", () => {
    const given = [{ address: "fdcf:1f15:0287::1", prefix: 64 }];
    expect(addressLayout([{ address: "fdcf:1f15:287::1", prefix: 64 }])).toBe(addressLayout(given));
    expect(rangeKey({ start: "fd00::0100", end: "FD00::1ff" })).toBe(
      rangeKey({ start: "fd00::100", end: "fd00::1ff" }),
    );
    expect(hostKey({ ip: "fd00::0009", name: "web" })).toBe(
      hostKey({ ip: "fd00::9", name: "web" }),
    );
    expect(dnsKey({ ip: "fd00:0::1", hostnames: ["b", "a"] })).toBe(
      dnsKey({ ip: "fd00::1", hostnames: ["a", "b"] }),
    );
  });

  it("gives back what libvirt reports in the user's spelling and order", () => {
    const given = [
      { ip: "fd00::0009", hostnames: ["web", "api"] },
      { ip: "10.0.0.1", hostnames: ["gw"] },
    ];
    const reported = [
      { ip: "10.0.0.1", hostnames: ["gw"] },
      { ip: "fd00::9", hostnames: ["api", "web"] },
      { ip: "10.0.0.2", hostnames: ["new"] },
    ];
    expect(asGiven(given, reported, dnsKey)).toEqual([...given, reported[2]]);
  });
});
