import type { NetworkInputs, NetworkOutputs } from "../kit/generated/types";
import { checkNetwork } from "./check";
import { networkHandlers } from "./handlers";
import { changedSets, portGroupKey, routeKey, srvKey } from "./records";
import { buildNetworkXml, readNetworkXml } from "./xml";

const extras = {
  name: "lab",
  mode: "nat" as const,
  domain: "lab.internal",
  dnsLocalOnly: true,
  addresses: [
    { address: "10.9.0.1", prefix: 24 },
    { address: "fd00:9::1", prefix: 64 },
  ],
  routes: [
    { address: "10.40.0.0", prefix: 16, gateway: "10.9.0.2", metric: 5 },
    { address: "fd00:40::", prefix: 64, gateway: "fd00:9::2" },
  ],
  dnsForwarders: [{ address: "10.9.9.9" }, { address: "10.9.9.8", domain: "corp.example" }],
  dnsSrvRecords: [
    { service: "ldap", protocol: "tcp" as const, target: "ldap.lab.internal", port: 389 },
    { service: "gone", protocol: "udp" as const },
  ],
  dnsTxtRecords: [{ name: "info", value: "hello, world" }],
  dnsmasqOptions: ["cache-size=200", "no-negcache"],
  nat: { addressStart: "192.0.2.10", addressEnd: "192.0.2.20", portStart: 20000, portEnd: 30000 },
  bandwidth: { inbound: { average: 1000, peak: 2000, burst: 1024 }, outbound: { average: 500 } },
  portGroups: [
    { name: "eng", default: true, bandwidth: { inbound: { average: 100 } } },
    { name: "ops" },
  ],
};

describe("network XML beyond addresses", () => {
  it("writes routes, DNS records, NAT ranges, bandwidth, port groups and dnsmasq options", () => {
    const xml = buildNetworkXml(extras);
    expect(xml).toContain('<domain name="lab.internal" localOnly="yes"/>');
    expect(xml).toContain('<address start="192.0.2.10" end="192.0.2.20"/>');
    expect(xml).toContain(
      '<route family="ipv6" address="fd00:40::" prefix="64" gateway="fd00:9::2"/>',
    );
    expect(xml).toContain('<srv service="gone" protocol="udp"/>');
    expect(xml).toContain('<dnsmasq:option value="no-negcache"/>');
    expect(xml).toContain('xmlns:dnsmasq="http://libvirt.org/schemas/network/dnsmasq/1.0"');
  });

  it("reads them back as they were given", () => {
    expect(readNetworkXml(buildNetworkXml(extras))).toMatchObject({
      routes: extras.routes,
      dnsForwarders: extras.dnsForwarders,
      dnsSrvRecords: extras.dnsSrvRecords,
      dnsTxtRecords: extras.dnsTxtRecords,
      dnsLocalOnly: true,
      dnsmasqOptions: extras.dnsmasqOptions,
      nat: extras.nat,
      bandwidth: extras.bandwidth,
      portGroups: extras.portGroups,
    });
  });

  it("leaves NAT ranges out of a routed network, and reads nothing where nothing is", () => {
    expect(buildNetworkXml({ ...extras, mode: "route" })).not.toContain("<nat");
    const plain = readNetworkXml(buildNetworkXml({ name: "lab", mode: "isolated" }));
    expect(plain).toMatchObject({ routes: [], dnsSrvRecords: [], dnsLocalOnly: false });
    expect(plain.nat).toBeUndefined();
    expect(plain.bandwidth).toBeUndefined();
  });
});

describe("keys of the new lists", () => {
  it("take libvirt's left-out zeros and default as unset, and IPv6 addresses by value", () => {
    expect(srvKey({ service: "a", protocol: "tcp", target: "t", port: 0 })).toBe(
      srvKey({ service: "a", protocol: "tcp", target: "t" }),
    );
    expect(portGroupKey({ name: "a", default: false })).toBe(portGroupKey({ name: "a" }));
    expect(routeKey({ address: "fd00:0040::", prefix: 64, gateway: "fd00:9::0002" })).toBe(
      routeKey({ address: "fd00:40::", prefix: 64, gateway: "fd00:9::2" }),
    );
  });

  it("see a list in another order as the same", () => {
    const olds = extras as unknown as NetworkOutputs;
    const news = { ...extras, routes: [...extras.routes].reverse() };
    expect(changedSets(olds, news)).toEqual([]);
    expect(changedSets(olds, { ...extras, dnsTxtRecords: [] })).toEqual(["dnsTxtRecords"]);
  });
});

describe("update classes", () => {
  const olds = { ...extras, autostart: true, uuid: "u", active: true } as NetworkOutputs;
  const diff = (news: Partial<NetworkInputs>) =>
    networkHandlers.diff!("u", olds, { ...extras, autostart: true, ...news } as NetworkInputs);

  it("changes SRV and TXT records and port groups live", async () => {
    const result = await diff({
      dnsSrvRecords: [],
      dnsTxtRecords: [{ name: "info", value: "v2" }],
      portGroups: [{ name: "ops", default: true }],
    });
    expect(result.replaces).toEqual([]);
    expect(result.changed?.sort()).toEqual(["dnsSrvRecords", "dnsTxtRecords", "portGroups"]);
  });

  it.each([
    ["routes", { routes: [] }],
    ["dnsForwarders", { dnsForwarders: [{ address: "10.9.9.7" }] }],
    ["dnsLocalOnly", { dnsLocalOnly: false }],
    ["dnsmasqOptions", { dnsmasqOptions: ["cache-size=300"] }],
    ["nat", { nat: { portStart: 1024, portEnd: 2048 } }],
    ["bandwidth", { bandwidth: { inbound: { average: 10 } } }],
  ])("replaces the network for %s", async (name, news) => {
    expect((await diff(news)).replaces).toEqual([name]);
  });

  it("sees no change in the same lists in another order", async () => {
    const result = await diff({ dnsForwarders: [...extras.dnsForwarders].reverse() });
    expect(result.changes).toBe(false);
  });
});

const reasons = (inputs: Partial<NetworkInputs>) =>
  checkNetwork({ ...extras, ...inputs } as NetworkInputs).map((f) => f.reason);

describe("Network rules for the new properties", () => {
  it("accept a network libvirt starts", () => {
    expect(reasons({})).toEqual([]);
  });

  it.each([
    [
      "a route to a host address",
      { routes: [{ address: "10.40.1.5", prefix: 16, gateway: "10.9.0.2" }] },
      "routes[0].address 10.40.1.5 is not the first address of its /16 subnet: use 10.40.0.0",
    ],
    [
      "a gateway the host cannot reach",
      { routes: [{ address: "10.40.0.0", prefix: 16, gateway: "10.8.0.2" }] },
      "routes[0].gateway 10.8.0.2 is outside the network's own subnets (10.9.0.0/24, fd00:9::/64)",
    ],
    [
      "a gateway of the other family",
      { routes: [{ address: "fd00:40::", prefix: 64, gateway: "10.9.0.2" }] },
      "routes[0].gateway 10.9.0.2 is IPv4 and address fd00:40:: is IPv6",
    ],
    [
      "an SRV port without target",
      { dnsSrvRecords: [{ service: "a", protocol: "tcp" as const, port: 80 }] },
      "dnsSrvRecords[0].port: a record without target",
    ],
    ["a forwarder with nothing", { dnsForwarders: [{}] }, "dnsForwarders[0] has neither"],
    [
      "a forwarder that is not an address",
      { dnsForwarders: [{ address: "dns.example" }] },
      'dnsForwarders[0].address "dns.example" is not an IPv4 or IPv6 address',
    ],
    ["localOnly without a domain", { domain: undefined }, "dnsLocalOnly keeps the names"],
    ["NAT on a routed network", { mode: "route" as const }, "nat: the network's mode is route"],
    [
      "half a NAT address range",
      { nat: { addressStart: "192.0.2.1" } },
      "nat.addressEnd is missing",
    ],
    [
      "NAT ports backwards",
      { nat: { portStart: 3000, portEnd: 2000 } },
      "nat ports run backwards, from 3000 down to 2000",
    ],
    [
      "two default port groups",
      {
        portGroups: [
          { name: "a", default: true },
          { name: "b", default: true },
        ],
      },
      "portGroups[1].default: portGroups[0] is the default already",
    ],
    [
      "a dnsmasq option given twice",
      { dnsmasqOptions: ["log-async", "no-negcache", "log-async"] },
      'dnsmasqOptions[2] "log-async" repeats dnsmasqOptions[0]',
    ],
    [
      "two port groups of one name",
      { portGroups: [{ name: "a" }, { name: "a" }] },
      "portGroups[1].name a is the name of portGroups[0] too",
    ],
  ])("refuse %s", (_what, inputs, reason) => {
    expect(reasons(inputs).join("\n")).toContain(reason);
  });

  it("refuse DNS records on a bridge-mode network", () => {
    const bridged = {
      mode: "bridge" as const,
      bridge: { name: "br0" },
      addresses: [],
      nat: undefined,
      domain: undefined,
      dnsLocalOnly: undefined,
      routes: undefined,
    };
    expect(reasons(bridged)).toEqual(
      ["dnsForwarders", "dnsSrvRecords", "dnsTxtRecords", "dnsmasqOptions"].map((name) =>
        expect.stringContaining(`${name}: a bridge-mode network joins the host bridge br0`),
      ),
    );
  });
});
