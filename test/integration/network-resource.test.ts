// The Network resource through the real dynamic-provider plugin, against the test bed daemon:
// static DHCP hosts and DNS records change live, with a running guest staying attached.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Libvirt, RemoteNonnullDomain, parseUuid } from "../../rpc";
import { guestDomainXml, waitForConsole } from "../support/guest";
import type { PropertyMap } from "../support/pulumi-wire";
import { connectTestbed, randomSubnet, uniqueName } from "../support/testbed";
import { VirtwireEngine } from "../support/virtwire-engine";

let virtwire: VirtwireEngine;
let lv: Libvirt;
// A subnet of its own per run, so parallel runs do not clash.
const subnet = randomSubnet();

beforeAll(async () => {
  virtwire = await VirtwireEngine.start();
  lv = await connectTestbed();
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

const lab = (extra: Record<string, unknown> = {}, hosts: unknown[] = []) =>
  ({
    mode: "isolated",
    domain: "lab.internal",
    addresses: [
      {
        address: `${subnet}.1`,
        prefix: 24,
        dhcp: { ranges: [{ start: `${subnet}.100`, end: `${subnet}.199` }], hosts },
      },
    ],
    ...extra,
  }) as PropertyMap;

describe("a Network", () => {
  it("is created running with autostart, and shows no change afterwards", async () => {
    const created = await virtwire.up("Network", "lab", lab());
    expect(created.step).toBe("create");
    expect(created.outputs).toMatchObject({
      active: true,
      autostart: true,
      mode: "isolated",
      uuid: created.id,
    });
    expect(created.outputs.bridgeName).toMatch(/^virbr\d+$/);
    await virtwire.refresh("lab");
    expect((await virtwire.up("Network", "lab", lab())).step).toBe("same");
  });

  // Found by generated inputs (seed 473820769, Network case 3): libvirt writes IPv6 addresses its
  // own way, and the network was replaced at every up.
  it("reads IPv6 addresses, ranges and hosts back as written, with leading zeros", async () => {
    const v6 = `fd${randomBytes(1).toString("hex")}:0287:${randomBytes(2).toString("hex")}`;
    const args = lab({
      addresses: [
        {
          address: `${v6}::1`,
          prefix: 64,
          dhcp: {
            ranges: [{ start: `${v6}::0100`, end: `${v6}::01ff` }],
            hosts: [{ ip: `${v6}::0009`, name: "web" }],
          },
        },
      ],
      dnsHosts: [{ ip: `${v6}::0009`, hostnames: ["web", "api"] }],
    });
    const created = await virtwire.up("Network", "lab", args);
    expect(created.outputs).toMatchObject({
      addresses: args.addresses,
      dnsHosts: args.dnsHosts,
    });
    await virtwire.refresh("lab");
    expect((await virtwire.up("Network", "lab", args)).step).toBe("same");
  });

  it("is created and read back with an address but no DHCP, and a DHCP host without a name", async () => {
    const noDhcp = lab({ addresses: [{ address: `${subnet}.1`, prefix: 24 }] });
    const created = await virtwire.up("Network", "lab", noDhcp);
    expect(created.step).toBe("create");
    expect(created.outputs.addresses).toEqual([{ address: `${subnet}.1`, prefix: 24 }]);
    expect(await virtwire.refresh("lab")).toBe("same");
    await virtwire.engine.destroy();
    const unnamed = lab({}, [{ mac: "52:54:00:aa:bb:01", ip: `${subnet}.50` }]);
    const withHost = await virtwire.up("Network", "lab", unnamed);
    expect(withHost.step).toBe("create");
    expect(await virtwire.refresh("lab")).toBe("same");
  });

  it("is replaced when its address changes, and updated in place for autostart", async () => {
    const created = await virtwire.up("Network", "lab", lab());
    expect((await virtwire.up("Network", "lab", lab({ autostart: false }))).step).toBe("update");
    const { net } = await lv.NetworkLookupByUUID({ uuid: parseUuid(created.id) });
    expect((await lv.NetworkGetAutostart({ net })).autostart).toBe(0);
    const moved = lab({ autostart: false });
    (moved.addresses as { prefix: number }[])[0]!.prefix = 23;
    const replaced = await virtwire.up("Network", "lab", moved);
    expect(replaced).toMatchObject({ step: "replace", diff: { replaces: ["addresses"] } });
  });

  it("is found stopped or deleted out of band by refresh, and repaired by up", async () => {
    const created = await virtwire.up("Network", "lab", lab());
    const { net } = await lv.NetworkLookupByUUID({ uuid: parseUuid(created.id) });
    await lv.NetworkDestroy({ net });
    await virtwire.refresh("lab");
    expect((await virtwire.up("Network", "lab", lab())).step).toBe("update");
    expect((await lv.NetworkIsActive({ net })).active).toBe(1);
    await lv.NetworkDestroy({ net });
    await lv.NetworkUndefine({ net });
    await virtwire.refresh("lab");
    expect((await virtwire.up("Network", "lab", lab())).step).toBe("create");
  });

  it("refuses bad inputs at check, naming each property", async () => {
    const bad = lab({ mode: "bridged", mtu: 10 });
    (bad.addresses as { prefix: number; dhcp: { hosts: unknown[] } }[])[0]!.dhcp.hosts = [
      { mac: "nope", ip: `${subnet}.5` },
    ];
    const error = String(await virtwire.up("Network", "lab", bad).catch((e: Error) => e));
    expect(error).toContain(
      'mode must be one of "isolated", "nat", "route", "open", "bridge"; got "bridged"',
    );
    expect(error).toContain("mtu must be at least 68");
    expect(error).toContain(
      'addresses[0].dhcp.hosts[0].mac "nope" is not valid: use a MAC address',
    );
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

    it("adds a static DHCP host and a DNS record live: no restart, the guest keeps its link", async () => {
      const created = await virtwire.up("Network", "lab", lab());
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "vwtest-net-"));
      const serialLog = path.join(dir, "console.log");
      ({ dom } = await lv.DomainDefineXML({
        xml: guestDomainXml(uniqueName("netguest"), {
          network: created.outputs.name as string,
          mac: "52:54:00:7e:00:01",
          serialLog,
        }),
      }));
      await lv.DomainCreate({ dom });
      const [, ip] = await waitForConsole(serialLog, /VIRTWIRE-GUEST: lease (\S+)/);
      expect(ip).toMatch(new RegExp(`^${subnet.replace(/\./g, "\\.")}\\.`));

      const bridge = created.outputs.bridgeName as string;
      // The bridge lives in the daemon's network namespace (libvirt 11 has one of its own).
      const netns = process.env.VIRTWIRE_DAEMON_NETNS;
      const ports = () =>
        netns
          ? execFileSync("ip", ["netns", "exec", netns, "ls", `/sys/class/net/${bridge}/brif`])
              .toString()
              .split("\n")
              .filter(Boolean)
          : fs.readdirSync(`/sys/class/net/${bridge}/brif`);
      const portsBefore = ports();
      expect(portsBefore.length).toBeGreaterThan(0);
      const events: string[] = [];
      // Events of this network only: other tests start and stop networks on the same daemon.
      const { net: own } = await lv.NetworkLookupByUUID({ uuid: parseUuid(created.id) });
      const subscription = await lv.events.onNetworkLifecycle((event) => events.push(event.event), {
        net: own,
      });

      const updated = await virtwire.up(
        "Network",
        "lab",
        lab({ dnsHosts: [{ ip: `${subnet}.20`, hostnames: ["db"] }] }, [
          { mac: "52:54:00:7e:00:02", ip: `${subnet}.20`, name: "db" },
        ]),
      );
      expect(updated).toMatchObject({ step: "update", id: created.id });
      await subscription.unsubscribe();
      expect(events).toEqual([]); // never stopped, never started
      expect(ports()).toEqual(portsBefore); // the guest's port is still on the bridge
      const { net } = await lv.NetworkLookupByUUID({ uuid: parseUuid(created.id) });
      const { xml } = await lv.NetworkGetXMLDesc({ net, flags: 0 });
      expect(xml).toContain(`<host mac='52:54:00:7e:00:02' name='db' ip='${subnet}.20'/>`);
      expect(xml).toContain(`<hostname>db</hostname>`);
      expect(
        (
          await virtwire.up(
            "Network",
            "lab",
            lab({ dnsHosts: [{ ip: `${subnet}.20`, hostnames: ["db"] }] }, [
              { mac: "52:54:00:7E:00:02", ip: `${subnet}.20`, name: "db" },
            ]),
          )
        ).step,
      ).toBe("same");
    });
  });
});
