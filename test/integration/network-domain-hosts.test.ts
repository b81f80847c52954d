/**
 * A Network and a Domain whose interface has a fixed address on it, through the real plugin
 * against the test bed: the DHCP host entry the domain adds to the network is the domain's, so a
 * refresh of the network does not take it into the network's state and the next up of the
 * network neither shows a change nor removes it. An entry made by hand is drift as before.
 */
import {
  AffectFlags,
  Libvirt,
  NetworkUpdateCommand,
  NetworkUpdateSection,
  NetworkXMLFlags,
  networkUpdate,
  parseUuid,
} from "../../rpc";
import { GUEST_CMDLINE, GUEST_INITRD, GUEST_KERNEL } from "../support/guest";
import type { PropertyMap } from "../support/pulumi-wire";
import { connectTestbed, randomSubnet } from "../support/testbed";
import { VirtwireEngine } from "../support/virtwire-engine";

jest.setTimeout(120_000);

let virtwire: VirtwireEngine;
let lv: Libvirt;
const subnet = randomSubnet();
const domainMac = "52:54:00:7b:00:01";
const handMac = "52:54:00:7b:00:02";

beforeAll(async () => {
  [virtwire, lv] = await Promise.all([VirtwireEngine.start(), connectTestbed()]);
  virtwire.reset();
});

afterAll(async () => {
  await virtwire?.engine.destroy().catch(() => undefined);
  await virtwire?.close();
  await lv?.close();
});

const lab = {
  mode: "isolated",
  addresses: [
    {
      address: `${subnet}.1`,
      prefix: 24,
      dhcp: { ranges: [{ start: `${subnet}.100`, end: `${subnet}.199` }], hosts: [] },
    },
  ],
} as PropertyMap;

const vm = (network: string) =>
  ({
    type: "qemu",
    memory: "128MiB",
    kernel: GUEST_KERNEL,
    initrd: GUEST_INITRD,
    cmdline: GUEST_CMDLINE,
    running: false,
    networkInterfaces: [{ network, mac: domainMac, address: `${subnet}.50`, hostname: "vwvm" }],
  }) as PropertyMap;

/** The network's DHCP hosts as `mac ip`, live and in its config. */
async function hostsOf(id: string): Promise<{ live: string[]; config: string[] }> {
  const { net } = await lv.NetworkLookupByUUID({ uuid: parseUuid(id) });
  // libvirt writes the attributes in its own order (mac, name, ip).
  const hosts = async (flags: number) =>
    [...(await lv.NetworkGetXMLDesc({ net, flags })).xml.matchAll(/<host ([^>]*)\/>/g)]
      .map(([, attrs]) =>
        ["mac", "ip"].map((key) => new RegExp(`${key}='([^']*)'`).exec(attrs!)?.[1]).join(" "),
      )
      .sort();
  return { live: await hosts(0), config: await hosts(NetworkXMLFlags.INACTIVE) };
}

const hostsInState = () => {
  const outputs = virtwire.engine.resource(virtwire.urn("Network", "lab")).outputs;
  const [address] = outputs.addresses as { dhcp?: { hosts?: { mac?: string }[] } }[];
  return (address?.dhcp?.hosts ?? []).map((host) => host.mac);
};

it("leaves the DHCP entry of a domain's fixed address alone, and still shows an entry made by hand as drift", async () => {
  const started = Date.now();
  const network = await virtwire.up("Network", "lab", lab);
  await virtwire.up("Domain", "vm", vm(network.outputs.name as string));
  const domainHost = `${domainMac} ${subnet}.50`;
  expect(await hostsOf(network.id)).toEqual({ live: [domainHost], config: [domainHost] });

  expect(await virtwire.refresh("lab")).toBe("same");
  expect(hostsInState()).toEqual([]);
  expect((await virtwire.up("Network", "lab", lab)).step).toBe("same");
  expect(await hostsOf(network.id)).toEqual({ live: [domainHost], config: [domainHost] });

  const { net } = await lv.NetworkLookupByUUID({ uuid: parseUuid(network.id) });
  const byHand = `<host mac='${handMac}' ip='${subnet}.60'/>`;
  const flags = AffectFlags.LIVE | AffectFlags.CONFIG;
  await networkUpdate(
    lv,
    net,
    NetworkUpdateCommand.ADD_LAST,
    NetworkUpdateSection.IP_DHCP_HOST,
    0,
    byHand,
    flags,
  );
  expect(await virtwire.refresh("lab")).toBe("changed");
  expect(hostsInState()).toEqual([handMac]);
  expect((await virtwire.up("Network", "lab", lab)).step).toBe("update");
  expect(await hostsOf(network.id)).toEqual({ live: [domainHost], config: [domainHost] });
  expect((await virtwire.up("Network", "lab", lab)).step).toBe("same");

  await virtwire.engine.destroy();
  console.log(`network beside a domain's DHCP entry: ${Date.now() - started} ms`);
});

it("removes a DHCP host its inputs declared and no longer do, though a domain claims the MAC", async () => {
  const started = Date.now();
  virtwire.reset();
  const network = await virtwire.up("Network", "lab", lab);
  await virtwire.up("Domain", "vm", vm(network.outputs.name as string));
  // The network is to declare the domain's entry itself, as after the network was made anew.
  const { net } = await lv.NetworkLookupByUUID({ uuid: parseUuid(network.id) });
  const domainHost = `<host mac='${domainMac}' name='vwvm' ip='${subnet}.50'/>`;
  const flags = AffectFlags.LIVE | AffectFlags.CONFIG;
  const { DELETE } = NetworkUpdateCommand;
  await networkUpdate(lv, net, DELETE, NetworkUpdateSection.IP_DHCP_HOST, 0, domainHost, flags);
  const [address] = lab.addresses as PropertyMap[];
  const host = { mac: domainMac, ip: `${subnet}.50`, name: "vwvm" };
  const declaring = {
    ...lab,
    addresses: [{ ...address, dhcp: { ...(address!.dhcp as PropertyMap), hosts: [host] } }],
  } as PropertyMap;
  expect((await virtwire.up("Network", "lab", declaring)).step).toBe("update");
  expect(hostsInState()).toEqual([domainMac]);

  expect((await virtwire.up("Network", "lab", lab)).step).toBe("update");
  expect(await hostsOf(network.id)).toEqual({ live: [], config: [] });
  expect(hostsInState()).toEqual([]);

  // The domain's delete finds its entry gone, and that is fine.
  await virtwire.engine.destroy();
  console.log(`network removing a declared host a domain claims: ${Date.now() - started} ms`);
});
