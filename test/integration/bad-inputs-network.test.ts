// Bad Network inputs as a user writes them, previewed through the real plugin against the test bed:
// addresses, prefixes, DHCP ranges and hosts, DNS hosts as libvirt 9 and dnsmasq refuse them, each
// refused at preview with one line per problem, and nothing appears in libvirt.
import { BadInput, describeBadInputs } from "../support/bad-inputs";
import { uniqueName } from "../support/testbed";

const run = uniqueName("bad");

const net = (address: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  mode: "isolated",
  addresses: [{ address: "10.93.12.1", prefix: 24, ...address }],
  ...extra,
});
const ranges = (...list: [string, string][]) => ({
  dhcp: { ranges: list.map(([start, end]) => ({ start, end })) },
});
const hosts = (...list: Record<string, string>[]) => ({ dhcp: { hosts: list } });

const cases: BadInput[] = [
  // Network addresses.
  {
    what: "an address that is not one",
    kind: "Network",
    args: net({ address: "10.93.12.300" }),
    problems: [
      /^addresses\[0\]\.address "10\.93\.12\.300" is not an IPv4 or IPv6 address: give the host's address/,
    ],
  },
  {
    what: "an IPv4 prefix over 32",
    kind: "Network",
    args: net({ prefix: 40 }),
    problems: [
      /^addresses\[0\]\.prefix 40 is too long for the IPv4 address 10\.93\.12\.1: use at most 32/,
    ],
  },
  {
    what: "a prefix of 0",
    kind: "Network",
    args: net({ prefix: 0 }),
    problems: [/^addresses\[0\]\.prefix must be at least 1; got 0/],
  },
  {
    what: "a range end that is not an address",
    kind: "Network",
    args: net(ranges(["10.93.12.100", "10.93.12.300"])),
    problems: [/^addresses\[0\]\.dhcp\.ranges\[0\]\.end "10\.93\.12\.300" is not an IP address/],
  },
  {
    what: "a second range outside the subnet",
    kind: "Network",
    args: net(ranges(["10.93.12.10", "10.93.12.20"], ["10.93.13.10", "10.93.13.20"])),
    problems: [
      /^addresses\[0\]\.dhcp\.ranges\[1\]\.start 10\.93\.13\.10 is outside 10\.93\.12\.1\/24 \(10\.93\.12\.0\/24\): give an address inside it/,
    ],
  },
  {
    what: "a range that runs backwards",
    kind: "Network",
    args: net(ranges(["10.93.12.200", "10.93.12.100"])),
    problems: [
      /^addresses\[0\]\.dhcp\.ranges\[0\] runs backwards, from 10\.93\.12\.200 down to 10\.93\.12\.100: swap start and end/,
    ],
  },
  {
    what: "a range from the network address",
    kind: "Network",
    args: net(ranges(["10.93.12.0", "10.93.12.50"])),
    problems: [/^addresses\[0\]\.dhcp\.ranges\[0\]\.start 10\.93\.12\.0 is the network address/],
  },
  {
    what: "a range to the broadcast address",
    kind: "Network",
    args: net(ranges(["10.93.12.100", "10.93.12.255"])),
    problems: [/^addresses\[0\]\.dhcp\.ranges\[0\]\.end 10\.93\.12\.255 is the broadcast address/],
  },
  {
    what: "a range of more than 65535 addresses",
    kind: "Network",
    args: net({ address: "10.0.0.1", prefix: 8, ...ranges(["10.0.0.2", "10.255.255.254"]) }),
    problems: [
      /^addresses\[0\]\.dhcp\.ranges\[0\] 10\.0\.0\.2 - 10\.255\.255\.254 holds 16777213 addresses; libvirt takes at most 65535/,
    ],
  },
  {
    what: "an IPv6 range on an IPv4 address",
    kind: "Network",
    args: net(ranges(["fd00::10", "fd00::20"])),
    problems: [
      /^addresses\[0\]\.dhcp\.ranges\[0\]\.start fd00::10 is an IPv6 address on the IPv4 network/,
    ],
  },
  {
    what: "a static host outside the subnet",
    kind: "Network",
    args: net(hosts({ mac: "52:54:00:00:00:01", ip: "10.93.14.5" })),
    problems: [/^addresses\[0\]\.dhcp\.hosts\[0\]\.ip 10\.93\.14\.5 is outside 10\.93\.12\.1\/24/],
  },
  {
    what: "a static host on the host's address",
    kind: "Network",
    args: net(hosts({ mac: "52:54:00:00:00:01", ip: "10.93.12.1" })),
    problems: [/^addresses\[0\]\.dhcp\.hosts\[0\]\.ip 10\.93\.12\.1 is the host's own address/],
  },
  {
    what: "an IPv4 static host without a MAC",
    kind: "Network",
    args: net(hosts({ ip: "10.93.12.5" })),
    problems: [/^addresses\[0\]\.dhcp\.hosts\[0\]\.mac is required for an IPv4 host/],
  },
  {
    what: "a static host with a bad MAC",
    kind: "Network",
    args: net(hosts({ mac: "52:54:00:zz:00:01", ip: "10.93.12.5" })),
    problems: [
      /^addresses\[0\]\.dhcp\.hosts\[0\]\.mac "52:54:00:zz:00:01" is not valid: use a MAC address such as 52:54:00:12:34:56/,
    ],
  },
  {
    what: "a static host with a multicast MAC",
    kind: "Network",
    args: net(hosts({ mac: "01:54:00:00:00:01", ip: "10.93.12.5" })),
    problems: [
      /^addresses\[0\]\.dhcp\.hosts\[0\]\.mac 01:54:00:00:00:01 is a multicast address, which libvirt refuses/,
    ],
  },
  {
    what: "two static hosts with one MAC",
    kind: "Network",
    args: net(
      hosts(
        { mac: "52:54:00:00:00:01", ip: "10.93.12.5" },
        { mac: "52:54:00:00:00:01", ip: "10.93.12.6" },
      ),
    ),
    problems: [
      /^addresses\[0\]\.dhcp\.hosts\[1\]\.mac 52:54:00:00:00:01 is already given to addresses\[0\]\.dhcp\.hosts\[0\]/,
    ],
  },
  {
    what: "an IPv6 static host with a MAC",
    kind: "Network",
    args: net({
      address: "fd00:93::1",
      prefix: 64,
      ...hosts({ mac: "52:54:00:00:00:01", ip: "fd00:93::5", name: "web" }),
    }),
    problems: [
      /^addresses\[0\]\.dhcp\.hosts\[0\]\.mac: libvirt does not match IPv6 hosts by MAC address; remove mac and give name/,
    ],
  },
  {
    what: "an IPv6 static host without a name",
    kind: "Network",
    args: net({ address: "fd00:93::1", prefix: 64, ...hosts({ ip: "fd00:93::5" }) }),
    problems: [/^addresses\[0\]\.dhcp\.hosts\[0\]\.name is required for an IPv6 host/],
  },
  {
    what: "DHCPv6 on a /48",
    kind: "Network",
    args: net({ address: "fd00:93::1", prefix: 48, ...ranges(["fd00:93::10", "fd00:93::20"]) }),
    problems: [
      /^addresses\[0\]\.prefix 48: dnsmasq serves DHCPv6 only on a prefix of 64 or longer/,
    ],
  },
  {
    what: "DHCP on two IPv4 addresses",
    kind: "Network",
    args: {
      mode: "isolated",
      addresses: [
        { address: "10.93.12.1", prefix: 24, ...ranges(["10.93.12.10", "10.93.12.20"]) },
        { address: "10.93.15.1", prefix: 24, ...ranges(["10.93.15.10", "10.93.15.20"]) },
      ],
    },
    problems: [
      /^addresses\[1\]\.dhcp: libvirt serves DHCP on one IPv4 address per network, and addresses\[0\] has it already/,
    ],
  },
  {
    what: "a DNS host with a bad address",
    kind: "Network",
    args: net({}, { dnsHosts: [{ ip: "10.93.12.300", hostnames: ["web"] }] }),
    problems: [/^dnsHosts\[0\]\.ip "10\.93\.12\.300" is not an IPv4 or IPv6 address/],
  },
  {
    what: "a DNS host without names",
    kind: "Network",
    args: net({}, { dnsHosts: [{ ip: "10.93.12.5", hostnames: [] }] }),
    problems: [/^dnsHosts\[0\]\.hostnames is empty: give at least one name/],
  },
  {
    what: "a bridge-mode network without a bridge",
    kind: "Network",
    args: { mode: "bridge" },
    problems: [/^bridge\.name is required with mode bridge/],
  },
  {
    what: "a bridge-mode network with addresses",
    kind: "Network",
    args: {
      mode: "bridge",
      bridge: { name: "br0" },
      addresses: [{ address: "10.93.12.1", prefix: 24 }],
    },
    problems: [/^addresses: a bridge-mode network has no addresses/],
  },
  {
    what: "an MTU too small",
    kind: "Network",
    args: net({}, { mtu: 50 }),
    problems: [/^mtu must be at least 68; got 50/],
  },
  {
    what: "a bridge name too long",
    kind: "Network",
    args: net({}, { bridge: { name: "a-very-long-bridge-name" } }),
    problems: [/^bridge\.name "a-very-long-bridge-name" is not valid: use at most 15 letters/],
  },
  {
    what: "a host not in virtwire:hosts",
    kind: "Network",
    args: net({}, { host: "kvm9" }),
    problems: [
      /^host "kvm9" is not configured: add it with pulumi config set --path 'virtwire:hosts\.kvm9\.uri' <libvirt URI>/,
    ],
  },
];

describeBadInputs("a bad Network input", run, cases);
