/**
 * Host devices and the interfaces' extras of a Domain through the real plugin against the test
 * bed, which has no passthrough hardware: PCI, USB and mediated devices are defined and read back
 * with no diff (refresh and get agree), and a start is refused with a message that names each
 * device and what to check, the failed create undone. Interfaces with an MTU, shaping, a filter
 * reference (clean-traffic, shipped with libvirt) and a macvtap (`direct`) interface on a veth
 * made in the daemon's namespace (this kernel has no dummy interfaces) are defined and read back the same way. The tiny guest
 * boots with a macvtap interface, and its link goes down and up again live (the same QEMU). On a
 * network of this file, the tiny guest gets the fixed address its interface asks for (a DHCP host
 * entry the domain adds), which changes live and goes with the interface and the domain; a failed
 * create removes only the entries it added.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AffectFlags,
  DomainXMLFlags,
  Libvirt,
  NetworkUpdateCommand,
  NetworkUpdateSection,
  NetworkXMLFlags,
  networkUpdate,
  parseUuid,
} from "../../rpc";
import type { DomainInputs } from "../../resources/kit/generated/types";
import { Engine } from "../support/engine";
import { GUEST_CMDLINE, GUEST_INITRD, GUEST_KERNEL, waitForConsole } from "../support/guest";
import { PropertyMap } from "../support/pulumi-wire";
import { connectTestbed, isolatedNetworkXml, randomSubnet, uniqueName } from "../support/testbed";
import { VirtwireEngine, resourceInputs, virtwireType } from "../support/virtwire-engine";

const DOMAIN = virtwireType("Domain");

jest.setTimeout(180_000);

let virtwire: VirtwireEngine;
let lv: Libvirt;
let engine: Engine;
let scratch: string;
/** One end of a veth pair in the daemon's network namespace, for macvtap; the other is `peer`. */
const dummy = `vwd${randomBytes(4).toString("hex")}`;
const peer = dummy.replace("vwd", "vwp");
const subnet = randomSubnet();
const network = uniqueName("nicnet");
const netns = process.env.VIRTWIRE_DAEMON_NETNS;
const inDaemonNetns = (args: string[]) =>
  execFileSync("ip", netns ? ["netns", "exec", netns, "ip", ...args] : args);

beforeAll(async () => {
  [virtwire, lv] = await Promise.all([VirtwireEngine.start(), connectTestbed()]);
  scratch = await mkdtemp(join(tmpdir(), "vwtest-nic-"));
  inDaemonNetns(["link", "add", dummy, "type", "veth", "peer", "name", peer]);
  inDaemonNetns(["link", "set", dummy, "up"]);
  const { net } = await lv.NetworkDefineXML({ xml: isolatedNetworkXml(network, subnet) });
  await lv.NetworkCreate({ net });
});

beforeEach(() => {
  engine = virtwire.reset();
});

afterEach(async () => {
  await engine.destroy().catch(() => undefined);
});

afterAll(async () => {
  await virtwire?.close();
  await rm(scratch, { recursive: true, force: true });
  const net = await lv?.NetworkLookupByName({ name: network }).then(
    (found) => found.net,
    () => undefined,
  );
  if (net) {
    await lv.NetworkDestroy({ net }).catch(() => undefined);
    await lv.NetworkUndefine({ net });
  }
  await lv?.close();
  try {
    inDaemonNetns(["link", "del", dummy]);
  } catch {
    // never made (deleting one end removes the pair)
  }
});

const names = new Map<string, string>();
const nameOf = (name: string) => names.get(name) ?? names.set(name, uniqueName(name)).get(name)!;

const guest = (name: string, extra: Partial<DomainInputs> = {}): DomainInputs => ({
  name: nameOf(name),
  type: "qemu",
  memory: "128MiB",
  kernel: GUEST_KERNEL,
  initrd: GUEST_INITRD,
  cmdline: GUEST_CMDLINE,
  console: { type: "file", path: join(scratch, `${name}.log`) },
  shutdownTimeout: 2,
  ...extra,
});

const up = (name: string, args: DomainInputs) =>
  engine.up(DOMAIN, name, resourceInputs("Domain", name, args as PropertyMap));

async function xmlOf(id: string, flags: number): Promise<string> {
  const { dom } = await lv.DomainLookupByUUID({ uuid: parseUuid(id) });
  return (await lv.DomainGetXMLDesc({ dom, flags })).xml;
}

const qemuId = async (id: string) => (await lv.DomainLookupByUUID({ uuid: parseUuid(id) })).dom.id;

const HOSTDEVS: DomainInputs["hostdevs"] = [
  { pci: "0000:7f:1f.7" },
  { pci: "0000:7e:00.0", managed: false },
  { usb: { vendor: "0x1d6b", product: "0x0002" } },
  { usb: { bus: 3, device: 9 } },
  { mdev: { uuid: "c2177883-f1bb-47f0-914d-32a22e3a8804" } },
];

it("defines host devices and interfaces with their extras, reads them back with no diff, and agrees in refresh and get", async () => {
  const started = Date.now();
  const args = guest("defined", {
    running: false,
    hostdevs: HOSTDEVS,
    networkInterfaces: [
      {
        bridge: "vwnobr0",
        mtu: 1400,
        linkState: "down",
        bandwidth: {
          inbound: { average: 1000, peak: 2000, burst: 512 },
          outbound: { average: 500 },
        },
        filter: { name: "clean-traffic", parameters: { IP: "10.7.0.5" } },
      },
      { direct: { device: dummy, mode: "bridge" } },
      { direct: { device: dummy } },
    ],
  });
  const created = await up("defined", args);
  expect(created.step).toBe("create");
  expect(created.outputs.hostdevs).toEqual([
    { pci: "0000:7f:1f.7", managed: true },
    { pci: "0000:7e:00.0", managed: false },
    { usb: { vendor: "0x1d6b", product: "0x0002" } },
    { usb: { bus: 3, device: 9 } },
    { mdev: { uuid: "c2177883-f1bb-47f0-914d-32a22e3a8804", model: "vfio-pci" } },
  ]);
  const nics = created.outputs.networkInterfaces as Record<string, unknown>[];
  expect(nics[0]).toMatchObject({ ...args.networkInterfaces![0], model: "virtio" });
  expect(nics[1]).toMatchObject({ direct: { device: dummy, mode: "bridge" }, linkState: "up" });
  expect(nics[2]).toMatchObject({ direct: { device: dummy, mode: "vepa" } });
  const xml = await xmlOf(created.id, DomainXMLFlags.INACTIVE);
  expect(xml).toContain(`<source dev='${dummy}' mode='bridge'/>`);
  expect(xml).toMatch(/<hostdev mode='subsystem' type='mdev'[^>]* model='vfio-pci'/);

  expect((await up("defined", args)).step).toBe("same");
  const [refreshed] = await engine.refresh();
  expect(refreshed).toMatchObject({ deleted: false, changed: false });
  const got = await engine.get(
    DOMAIN,
    "got",
    created.id,
    resourceInputs("Domain", "got", {}, virtwire.urn("Domain", "got")),
  );
  expect(got.outputs.hostdevs).toEqual(created.outputs.hostdevs);
  expect(got.outputs.networkInterfaces).toEqual(created.outputs.networkInterfaces);

  // Shut off, every change is applied by redefining: one host device fewer, another MTU.
  const changed = await up("defined", {
    ...args,
    hostdevs: HOSTDEVS!.slice(1),
    networkInterfaces: [
      { ...args.networkInterfaces![0]!, mtu: 9000 },
      ...args.networkInterfaces!.slice(1),
    ],
  });
  expect(changed.step).toBe("update");
  expect((changed.outputs.hostdevs as unknown[]).length).toBe(4);
  expect((changed.outputs.networkInterfaces as { mtu?: number }[])[0]!.mtu).toBe(9000);
  console.log(
    `host devices and interface extras: define, read back, change ${Date.now() - started} ms`,
  );
});

it("refuses a start on a host device the host lacks, naming the device and what to check", async () => {
  const args = guest("pci", { hostdevs: [{ pci: "0000:7f:1f.7" }] });
  const failure = await up("pci", args).then(
    () => "started",
    (error: Error) => error.message,
  );
  expect(failure).toContain(`domain ${nameOf("pci")} did not start: `);
  expect(failure).toContain("Its host devices may be the cause");
  expect(failure).toContain(
    "hostdevs[0] PCI device 0000:7f:1f.7: it exists (lspci -D -s 0000:7f:1f.7)",
  );
  // The failed create was undone.
  await expect(lv.DomainLookupByName({ name: nameOf("pci") })).rejects.toMatchObject({
    codeName: "VIR_ERR_NO_DOMAIN",
  });
});

it("boots the tiny guest on a macvtap interface and takes its link down and up live", async () => {
  const args = (linkState: "up" | "down") =>
    guest("link", {
      networkInterfaces: [{ direct: { device: dummy, mode: "bridge" }, linkState }],
    });
  const started = Date.now();
  const created = await up("link", args("up"));
  expect(created.outputs).toMatchObject({ state: "running" });
  const running = await qemuId(created.id);
  const down = await up("link", args("down"));
  expect(down.step).toBe("update");
  expect(await qemuId(created.id)).toBe(running);
  expect(await xmlOf(created.id, 0)).toMatch(/<link state='down'\/>/);
  expect(await xmlOf(created.id, DomainXMLFlags.INACTIVE)).toMatch(/<link state='down'\/>/);
  expect((await up("link", args("down"))).step).toBe("same");
  const again = await up("link", args("up"));
  expect(await qemuId(created.id)).toBe(running);
  expect(again.outputs.networkInterfaces).toMatchObject([{ linkState: "up" }]);
  expect(await xmlOf(created.id, 0)).toMatch(/<link state='up'\/>/);
  console.log(`macvtap guest: up, link down and up live ${Date.now() - started} ms`);
});

/** The network's DHCP hosts as `mac ip name`, live and in its config. */
async function dhcpHosts(): Promise<{ live: string[]; config: string[] }> {
  const { net } = await lv.NetworkLookupByName({ name: network });
  const hosts = async (flags: number) =>
    [...(await lv.NetworkGetXMLDesc({ net, flags })).xml.matchAll(/<host ([^>]*)\/>/g)].map(
      ([, attrs]) =>
        ["mac", "ip", "name"]
          .map((key) => new RegExp(`${key}='([^']*)'`).exec(attrs!)?.[1] ?? "-")
          .join(" "),
    );
  return { live: await hosts(0), config: await hosts(NetworkXMLFlags.INACTIVE) };
}

it("gives the tiny guest its fixed address by a DHCP entry that changes live and goes with the interface and the domain", async () => {
  const started = Date.now();
  const fixedMac = "52:54:00:7a:00:02";
  const args = (first: string, second: boolean) =>
    guest("fixed", {
      networkInterfaces: [
        { network, address: `${subnet}.${first}`, hostname: "vwweb" },
        ...(second ? [{ network, mac: fixedMac, address: `${subnet}.51` }] : []),
      ],
    });
  const created = await up("fixed", args("50", true));
  const nics = created.outputs.networkInterfaces as { mac: string; address?: string }[];
  const mac = nics[0]!.mac;
  expect(nics).toMatchObject([
    { network, address: `${subnet}.50`, hostname: "vwweb" },
    { network, mac: fixedMac, address: `${subnet}.51` },
  ]);
  const both = [`${mac} ${subnet}.50 vwweb`, `${fixedMac} ${subnet}.51 -`];
  expect(await dhcpHosts()).toEqual({ live: both, config: both });
  const [, lease] = await waitForConsole(join(scratch, "fixed.log"), /VIRTWIRE-GUEST: lease (\S+)/);
  expect(lease).toBe(`${subnet}.50`);
  const booted = Date.now() - started;

  expect((await up("fixed", args("50", true))).step).toBe("same");
  // The guest's lease is new since the create: the refresh reads the rest as it was.
  await engine.refresh();
  const refreshed = engine.resource(engine.urn(DOMAIN, "fixed")).outputs;
  expect(refreshed.networkInterfaces).toEqual(created.outputs.networkInterfaces);
  expect(refreshed.ipAddress).toBe(`${subnet}.50`);
  const got = await engine.get(
    DOMAIN,
    "gotfixed",
    created.id,
    resourceInputs("Domain", "gotfixed", {}, virtwire.urn("Domain", "gotfixed")),
  );
  expect(got.outputs.networkInterfaces).toEqual(created.outputs.networkInterfaces);

  const running = await qemuId(created.id);
  const moved = await up("fixed", args("60", false));
  expect(moved.step).toBe("update");
  expect(await qemuId(created.id)).toBe(running);
  const one = [`${mac} ${subnet}.60 vwweb`];
  expect(await dhcpHosts()).toEqual({ live: one, config: one });
  expect((await up("fixed", args("60", false))).step).toBe("same");

  await engine.destroy();
  expect(await dhcpHosts()).toEqual({ live: [], config: [] });
  console.log(`fixed address: booted to its lease ${booted} ms, all ${Date.now() - started} ms`);
});

it("refuses at preview a fixed address outside the subnets of a network that exists, leaving nothing behind", async () => {
  const args = guest("outside", {
    running: false,
    networkInterfaces: [{ network, address: "192.0.2.9" }],
  });
  const said = (step: Promise<unknown>) =>
    step.then(
      () => "accepted",
      (error: Error) => error.message,
    );
  const reason = `networkInterfaces[0].address 192.0.2.9 is not in a subnet of network ${network} (${subnet}.1/24): use an address in one of them`;
  const inputs = resourceInputs("Domain", "outside", args as PropertyMap);
  expect(await said(engine.preview(DOMAIN, "outside", inputs))).toContain(reason);
  expect(await said(up("outside", args))).toContain(reason);
  await expect(lv.DomainLookupByName({ name: nameOf("outside") })).rejects.toMatchObject({
    codeName: "VIR_ERR_NO_DOMAIN",
  });
  expect(await dhcpHosts()).toEqual({ live: [], config: [] });
});

it("undoes a failed create by removing only the DHCP entries it added, leaving an equal one that was there", async () => {
  const theirs = `52:54:00:7a:00:0${randomBytes(1)[0]! % 8}`;
  const { net } = await lv.NetworkLookupByName({ name: network });
  const entry = `<host mac='${theirs}' ip='${subnet}.70'/>`;
  const flags = AffectFlags.LIVE | AffectFlags.CONFIG;
  const { IP_DHCP_HOST } = NetworkUpdateSection;
  await networkUpdate(lv, net, NetworkUpdateCommand.ADD_LAST, IP_DHCP_HOST, 0, entry, flags);
  try {
    const args = guest("undo", {
      running: false,
      networkInterfaces: [
        { network, address: `${subnet}.71` },
        { network, mac: theirs, address: `${subnet}.70` },
      ],
    });
    await expect(up("undo", args)).rejects.toThrow();
    await expect(lv.DomainLookupByName({ name: nameOf("undo") })).rejects.toMatchObject({
      codeName: "VIR_ERR_NO_DOMAIN",
    });
    const left = [`${theirs} ${subnet}.70 -`];
    expect(await dhcpHosts()).toEqual({ live: left, config: left });
  } finally {
    await networkUpdate(lv, net, NetworkUpdateCommand.DELETE, IP_DHCP_HOST, 0, entry, flags);
  }
});
