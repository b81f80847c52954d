// The Network's routes, IPv6 with DHCPv6 and router advertisements, DNS forwarders, SRV and TXT
// records, localOnly DNS, dnsmasq options, NAT ranges, port groups and bandwidth, through the real
// dynamic-provider plugin against the test bed's daemon: created running, read back with no
// change by up, refresh and get(); SRV and TXT records and port groups change live with a running
// guest staying attached, the rest replaces the network. Bandwidth needs tc's sfq qdisc, which
// this host's kernel does not have: it is defined and read back without starting.
import { execFileSync } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Libvirt, NetworkXMLFlags, RemoteNonnullDomain, parseUuid } from "../../rpc";
import { SET_PROPERTIES } from "../../resources/network/records";
import { buildNetworkXml, readNetworkXml } from "../../resources/network/xml";
import { guestDomainXml } from "../support/guest";
import { PropertyMap, reveal } from "../support/pulumi-wire";
import { connectTestbed, daemonPath, randomSubnet, uniqueName } from "../support/testbed";
import { VirtwireEngine, resourceInputs, virtwireType } from "../support/virtwire-engine";

jest.setTimeout(120_000);

let virtwire: VirtwireEngine;
let lv: Libvirt;
// Subnets of this run's own, so parallel runs do not clash.
const v4 = randomSubnet();
// Groups without leading zeros, as `ip` prints them.
const group = () => randomBytes(2).readUInt16BE(0).toString(16);
const v6 = `fd${randomBytes(1).toString("hex")}:${group()}:${group()}`;
// Routed through a guest of the network, never the network's own subnet.
const routed = `10.${randomInt(100, 200)}.${randomInt(0, 256)}`;

beforeAll(async () => {
  [virtwire, lv] = await Promise.all([VirtwireEngine.start(), connectTestbed()]);
});

beforeEach(() => {
  virtwire.reset();
});

afterEach(async () => {
  await virtwire.engine.destroy().catch(() => undefined);
});

afterAll(async () => {
  await virtwire?.close();
  await lv?.close();
});

const lab = (extra: Record<string, unknown> = {}) =>
  ({
    mode: "nat",
    domain: "lab.internal",
    dnsLocalOnly: true,
    addresses: [
      {
        address: `${v4}.1`,
        prefix: 24,
        dhcp: { ranges: [{ start: `${v4}.100`, end: `${v4}.199` }] },
      },
      {
        address: `${v6}::1`,
        prefix: 64,
        dhcp: {
          ranges: [{ start: `${v6}::100`, end: `${v6}::1ff` }],
          hosts: [{ ip: `${v6}::9`, name: "web" }],
        },
      },
    ],
    routes: [
      { address: `${routed}.0`, prefix: 24, gateway: `${v4}.2`, metric: 5 },
      { address: `${v6}:1::`, prefix: 80, gateway: `${v6}::0002` },
    ],
    dnsForwarders: [{ address: "10.9.9.9" }, { domain: "corp.example", address: "fd00::53" }],
    dnsSrvRecords: [
      { service: "ldap", protocol: "tcp", target: "ldap.lab.internal", port: 389, priority: 0 },
      { service: "gone", protocol: "udp" },
    ],
    dnsTxtRecords: [{ name: "info", value: "hello, world" }],
    dnsmasqOptions: ["cache-size=200", "no-negcache"],
    nat: { addressStart: "192.0.2.10", addressEnd: "192.0.2.20", portStart: 20000, portEnd: 30000 },
    portGroups: [{ name: "eng" }, { name: "ops" }],
    ...extra,
  }) as PropertyMap;

/** Runs `command` in the daemon's network namespace (libvirt 11 has one of its own). */
function inDaemonNamespace(command: string[]): string {
  const netns = process.env.VIRTWIRE_DAEMON_NETNS;
  const [file, ...args] = netns ? ["ip", "netns", "exec", netns, ...command] : command;
  return execFileSync(file!, args).toString();
}

async function liveXml(id: string): Promise<string> {
  const { net } = await lv.NetworkLookupByUUID({ uuid: parseUuid(id) });
  return (await lv.NetworkGetXMLDesc({ net, flags: 0 })).xml;
}

describe("a Network with routes, IPv6, DNS records, NAT ranges and port groups", () => {
  it("starts with them, adds the routes and RA, and reads back the same by up, refresh and get", async () => {
    const created = await virtwire.up("Network", "lab", lab());
    expect(created.step).toBe("create");
    expect(created.outputs).toMatchObject(lab());
    const routes = inDaemonNamespace(["ip", "route", "show", `${routed}.0/24`]);
    expect(routes).toContain(`via ${v4}.2`);
    expect(inDaemonNamespace(["ip", "-6", "route", "show", `${v6}:1::/80`])).toContain(
      `via ${v6}::2`,
    );
    // Router advertisements come from dnsmasq itself (no radvd) on libvirt 9.0 and 11.3.
    const name = created.outputs.name as string;
    const conf = fs.readFileSync(daemonPath(`/var/lib/libvirt/dnsmasq/${name}.conf`), "utf8");
    expect(conf.split("\n")).toEqual(
      expect.arrayContaining([
        "enable-ra",
        "local=/lab.internal/",
        "server=10.9.9.9",
        "server=/corp.example/fd00::53",
        "txt-record=info,hello, world",
        "srv-host=_ldap._tcp,ldap.lab.internal,389",
        "cache-size=200",
      ]),
    );
    expect(await virtwire.refresh("lab")).toBe("same");
    expect((await virtwire.up("Network", "lab", lab())).step).toBe("same");
    const props = resourceInputs("Network", "got", {}, virtwire.urn("Network", "got"));
    const got = await virtwire.engine.get(virtwireType("Network"), "got", created.id, props);
    const outputs = reveal(got.outputs) as Record<string, unknown>;
    // get() has no inputs to take the spelling from (libvirt's `::2` for `::0002`, no
    // `priority: 0`): its lists hold the same entries by key.
    const made = reveal(created.outputs) as Record<string, unknown>;
    for (const [key, keyOf] of Object.entries(SET_PROPERTIES)) {
      const keys = (list: unknown) => (list as never[]).map(keyOf as (item: never) => string);
      expect({ [key]: keys(outputs[key]) }).toEqual({ [key]: keys(made[key]) });
    }
    expect(outputs).toMatchObject({
      dnsLocalOnly: true,
      nat: lab().nat,
      dnsmasqOptions: lab().dnsmasqOptions,
    });
  });

  it("is replaced for new routes, forwarders or NAT ranges, naming the property", async () => {
    const created = await virtwire.up("Network", "lab", lab());
    const moved = await virtwire.up("Network", "lab", lab({ routes: [] }));
    expect(moved).toMatchObject({ step: "replace", diff: { replaces: ["routes"] } });
    const natted = await virtwire.up(
      "Network",
      "lab",
      lab({ routes: [], nat: { portStart: 1024, portEnd: 2047 } }),
    );
    expect(natted).toMatchObject({ step: "replace", diff: { replaces: ["nat"] } });
    expect(natted.id).not.toBe(created.id);
    expect(await liveXml(natted.id)).toContain("<port start='1024' end='2047'/>");
  });

  it("refuses a route it cannot add and an SRV port without target at check", async () => {
    const bad = lab({
      routes: [{ address: `${routed}.7`, prefix: 24, gateway: "10.1.2.3" }],
      dnsSrvRecords: [{ service: "web", protocol: "tcp", port: 80 }],
    });
    const error = String(await virtwire.up("Network", "lab", bad).catch((e: Error) => e));
    expect(error).toContain(`routes[0].address ${routed}.7 is not the first address`);
    expect(error).toContain("routes[0].gateway 10.1.2.3 is outside the network's own subnets");
    expect(error).toContain("dnsSrvRecords[0].port: a record without target");
  });

  it("defines bandwidth limits on the network and its port groups, and reads them back", async () => {
    const bandwidth = {
      inbound: { average: 1000, peak: 2000, burst: 1024 },
      outbound: { average: 500 },
    };
    const portGroups = [{ name: "eng", default: true, bandwidth: { inbound: { average: 100 } } }];
    const inputs = { name: uniqueName("netbw"), mode: "isolated" as const, bandwidth, portGroups };
    const { net } = await lv.NetworkDefineXML({ xml: buildNetworkXml(inputs) });
    try {
      const { xml } = await lv.NetworkGetXMLDesc({ net, flags: NetworkXMLFlags.INACTIVE });
      expect(readNetworkXml(xml)).toMatchObject({ bandwidth, portGroups });
    } finally {
      await lv.NetworkUndefine({ net });
    }
  });

  describe("with a running guest attached", () => {
    let dom: RemoteNonnullDomain | undefined;
    let dir: string;

    afterEach(async () => {
      if (dom) {
        await lv.DomainDestroy({ dom }).catch(() => undefined);
        await lv.DomainUndefine({ dom }).catch(() => undefined);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it("changes SRV and TXT records and port groups live: no restart, the guest keeps its link", async () => {
      const created = await virtwire.up("Network", "lab", lab());
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "vwtest-netx-"));
      const serialLog = path.join(dir, "console.log");
      ({ dom } = await lv.DomainDefineXML({
        xml: guestDomainXml(uniqueName("netxguest"), {
          network: created.outputs.name as string,
          mac: "52:54:00:7e:01:01",
          serialLog,
        }),
      }));
      // Its tap is on the bridge from the start: no need to wait for its boot.
      await lv.DomainCreate({ dom });
      const bridge = created.outputs.bridgeName as string;
      const ports = () => inDaemonNamespace(["ls", `/sys/class/net/${bridge}/brif`]);
      const portsBefore = ports();
      expect(portsBefore).toMatch(/\S/);
      const events: string[] = [];
      // Events of this network only: other tests start and stop networks on the same daemon.
      const { net } = await lv.NetworkLookupByUUID({ uuid: parseUuid(created.id) });
      const subscription = await lv.events.onNetworkLifecycle(
        (event) => events.push(String(event.event)),
        { net },
      );

      const changed = lab({
        dnsSrvRecords: [
          { service: "ldap", protocol: "tcp", target: "ldap2.lab.internal", port: 636 },
        ],
        dnsTxtRecords: [{ name: "info", value: "v2" }],
        portGroups: [{ name: "ops", default: true }, { name: "dev" }],
      });
      const updated = await virtwire.up("Network", "lab", changed);
      expect(updated).toMatchObject({ step: "update", id: created.id });
      await subscription.unsubscribe();
      expect(events).toEqual([]); // never stopped, never started
      expect(ports()).toEqual(portsBefore); // the guest's port is still on the bridge
      const xml = await liveXml(created.id);
      expect(xml).toContain("target='ldap2.lab.internal' port='636'");
      expect(xml).toContain("<txt name='info' value='v2'/>");
      expect(xml).toContain("<portgroup name='ops' default='yes'>");
      expect(xml).not.toContain("'eng'");
      expect((await virtwire.up("Network", "lab", changed)).step).toBe("same");
    });
  });
});
