// Bad inputs to Pools, Volumes, CloudInitDisks and Networks as a user writes them, previewed
// through the real plugin against the test bed: each is refused at preview with one line per
// problem naming the property path and the fix, with no dump of the value and no stack trace, and
// nothing appears in libvirt.
import type { Libvirt } from "../../rpc";
import type { Inventory } from "../e2e/libvirt-inventory";
import { BadInput, noise, ownInventory, refusal } from "../support/bad-inputs";
import { connectTestbed, uniqueName } from "../support/testbed";
import { VirtwireEngine } from "../support/virtwire-engine";

const run = uniqueName("bad");
let virtwire: VirtwireEngine;
let lv: Libvirt;
let before: Inventory;

beforeAll(async () => {
  virtwire = await VirtwireEngine.start();
  lv = await connectTestbed();
  before = await ownInventory(lv, run);
});

afterAll(async () => {
  await virtwire?.close();
  await lv?.close();
});

const pool = (args: Record<string, unknown>): BadInput["args"] => ({
  type: "dir",
  targetPath: `/var/lib/libvirt/images/${run}`,
  ...args,
});
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
  // Names, types and unknown properties, at any depth.
  {
    what: "a misspelt property (JavaScript)",
    kind: "Pool",
    args: { type: "dir", targetpath: "/srv/x" },
    problems: [
      /^targetPath is required/,
      /^targetpath is not a property of Pool; did you mean "targetPath"\?/,
    ],
  },
  {
    what: "a misspelt nested property",
    kind: "Pool",
    args: pool({ permissions: { mdoe: "0755" } }),
    problems: [/^permissions\.mdoe is not a property of PoolPermissions; did you mean "mode"\?/],
  },
  {
    what: "a misspelt property in a list item",
    kind: "Network",
    args: { addresses: [{ adress: "10.1.0.1", prefix: 24 }] },
    problems: [
      /^addresses\[0\]\.address is required/,
      /^addresses\[0\]\.adress is not a property of NetworkAddress; did you mean "address"\?/,
    ],
  },
  {
    what: "an output given as an input",
    kind: "Network",
    args: { uuid: "x" },
    problems: [/^uuid is an output of the Network, set by virtwire, not an input: remove it/],
  },
  {
    what: "a misspelt enum value",
    kind: "Pool",
    args: pool({ type: "dri" }),
    problems: [
      /^type must be one of "dir", "fs", "netfs", "logical"; got "dri" \(did you mean "dir"\?\)/,
    ],
  },
  {
    what: "a relative target path",
    kind: "Pool",
    args: pool({ targetPath: "images" }),
    problems: [/^targetPath "images" is not valid: use an absolute path/],
  },
  {
    what: "a name libvirt refuses",
    kind: "Pool",
    args: pool({ name: "a/b" }),
    problems: [/^name "a\/b" is not valid: use up to 100 letters/],
  },
  {
    what: "a wrong type deep down",
    kind: "Pool",
    args: pool({ permissions: { owner: "root" } }),
    problems: [/^permissions\.owner must be a number; got "root"/],
  },
  {
    what: "a list where an object goes",
    kind: "Pool",
    args: pool({ source: ["nfs"] }),
    problems: [/^source must be an object; got a list of 1$/],
  },
  {
    what: "a netfs pool without its server",
    kind: "Pool",
    args: pool({ type: "netfs" }),
    problems: [/^source: a netfs pool needs source\.host/],
  },
  // Sizes.
  {
    what: "a capacity too large",
    kind: "Volume",
    args: { pool: "default", capacity: "100000PiB" },
    problems: [/^capacity "100000PiB" is more than the largest size virtwire handles, 8 PiB/],
  },
  {
    what: "a capacity that is not a size",
    kind: "Volume",
    args: { pool: "default", capacity: "ten gigs" },
    problems: [/^capacity "ten gigs" is not a size: use a number of bytes/],
  },
  {
    what: "a capacity in part bytes",
    kind: "Volume",
    args: { pool: "default", capacity: "1.0000001KiB" },
    problems: [/^capacity "1\.0000001KiB" is not a whole number of bytes/],
  },
  {
    what: "a negative capacity",
    kind: "Volume",
    args: { pool: "default", capacity: -5 },
    problems: [/^capacity -5 is negative/],
  },
  {
    what: "a zero capacity",
    kind: "Volume",
    args: { pool: "default", capacity: 0 },
    problems: [/^capacity must be more than 0 bytes/],
  },
  // Volume sources.
  {
    what: "an empty volume without capacity",
    kind: "Volume",
    args: { pool: "default" },
    problems: [/^capacity is required for an empty volume/],
  },
  {
    what: "a source with path and url",
    kind: "Volume",
    args: { pool: "default", source: { path: "/a.img", url: "https://example.org/a.img" } },
    problems: [/^source takes a path or a url, not both/],
  },
  {
    what: "an ftp source url",
    kind: "Volume",
    args: { pool: "default", source: { url: "ftp://example.org/a.img" } },
    problems: [
      /^source\.url "ftp:\/\/example\.org\/a\.img" is not valid: use an http:\/\/ or https:\/\/ URL/,
    ],
  },
  {
    what: "a sha256 that is not one",
    kind: "Volume",
    args: { pool: "default", source: { url: "https://example.org/a.img", sha256: "abc" } },
    problems: [/^source\.sha256 "abc" is not valid: use the 64 hexadecimal digits/],
  },
  {
    what: "an upload that is also an overlay",
    kind: "Volume",
    args: {
      pool: "default",
      source: { url: "https://example.org/a.img" },
      baseVolume: { key: "/x.qcow2" },
    },
    problems: [/^baseVolume: a volume is either uploaded \(source\) or an overlay/],
  },
  {
    what: "a raw overlay",
    kind: "Volume",
    args: { pool: "default", baseVolume: { key: "/x.qcow2" }, format: "raw" },
    problems: [/^format: an overlay on a base volume is a qcow2 image/],
  },
  {
    what: "a misspelt source property",
    kind: "Volume",
    args: { pool: "default", source: { pth: "/a.img" } },
    problems: [
      /^source\.pth is not a property of VolumeSource; did you mean "path"\?/,
      /^source needs a path \(a file on this machine\) or a url/,
    ],
  },
  // CloudInitDisk.
  {
    what: "a seed without user data",
    kind: "CloudInitDisk",
    args: { pool: "default" },
    problems: [/^userData is required/],
  },
  {
    what: "misspelt user data",
    kind: "CloudInitDisk",
    args: { pool: "default", userdata: "#cloud-config" },
    problems: [
      /^userData is required/,
      /^userdata is not a property of CloudInitDisk; did you mean "userData"\?/,
    ],
  },
  {
    what: "user data cloud-init would ignore",
    kind: "CloudInitDisk",
    args: { pool: "default", userData: "hostname: web\n" },
    problems: [
      /^userData does not start with a line cloud-init acts on, so the guest would ignore it: start it with #cloud-config/,
    ],
  },
  {
    what: "meta-data with an empty instance-id",
    kind: "CloudInitDisk",
    args: { pool: "default", userData: "#cloud-config\n", metaData: "instance-id: ''\n" },
    problems: [/^metaData: cannot build the seed image: meta-data has an empty instance-id/],
  },
  {
    what: "a forward device on an isolated network",
    kind: "Network",
    args: { mode: "isolated", forwardDevice: "eth0" },
    problems: [/^forwardDevice is not used by an isolated network/],
  },
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
    kind: "Pool",
    args: pool({ host: "kvm9" }),
    problems: [
      /^host "kvm9" is not configured: add it with pulumi config set --path 'virtwire:hosts\.kvm9\.uri' <libvirt URI>/,
    ],
  },
];

describe("a bad input", () => {
  it.each(cases.map((c, index) => ({ ...c, index })))(
    "is refused at preview: $what ($kind)",
    async ({ kind, args, problems, index }) => {
      const name = `${run}-${index}`;
      const { lines, reasons } = await refusal(virtwire.engine, kind, name, args);
      for (const line of lines) {
        expect(
          line.startsWith(
            `pulumi-nodejs:dynamic/virtwire:${kind} resource '${name}' has a problem: `,
          ),
        ).toBe(true);
        expect(noise(line)).toBeUndefined();
      }
      expect(reasons).toEqual(problems.map((problem) => expect.stringMatching(problem)));
    },
  );

  it("leaves nothing in libvirt, and no stack trace in the plugin's output", async () => {
    expect(await ownInventory(lv, run)).toEqual(before);
    expect(virtwire.logs.filter((line) => /^\s+at /.test(line) || line.includes(run))).toEqual([]);
  });
});
