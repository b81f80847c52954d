import {
  ErrorCode,
  Libvirt,
  LibvirtError,
  RemoteNonnullNetwork,
  isNoNetwork,
  isNotFound,
  parseUuid,
} from "../../rpc/internal";
import {
  AffectFlags,
  ConnectListAllNetworksFlags,
  DefineFlags,
  NetworkUpdateCommand,
  NetworkUpdateSection,
  NetworkXMLFlags,
} from "../../rpc/protocol/remote";
import { networkUpdate } from "../../rpc/network-update";
import { rejection } from "../support/promises";
import {
  connectTestbed,
  isolatedNetworkXml,
  randomSubnet,
  recordedNames,
  uniqueName,
} from "../support/testbed";

/** Stops and undefines a network if it still exists; missing networks are fine. */
async function removeNetwork(lv: Libvirt, name: string): Promise<void> {
  const found = await lv.NetworkLookupByName({ name }).catch(() => null);
  if (!found) return;
  await lv.NetworkDestroy(found).catch(() => undefined);
  await lv.NetworkUndefine(found).catch(() => undefined);
}

describe("the network procedures against the test bed daemon", () => {
  let lv: Libvirt;
  const { name, names: created } = recordedNames();

  beforeAll(async () => {
    lv = await connectTestbed();
  });

  afterAll(async () => {
    for (const network of created) await removeNetwork(lv, network);
    await lv?.close();
  });

  describe("a persistent isolated network", () => {
    const netName = name("net");
    const prefix = randomSubnet();
    const xml = isolatedNetworkXml(netName, prefix);
    let net: RemoteNonnullNetwork;

    it("is defined inactive and found by name and UUID", async () => {
      ({ net } = await lv.NetworkDefineXML({ xml }));
      expect(net.name).toBe(netName);
      await expect(lv.NetworkLookupByName({ name: netName })).resolves.toEqual({ net });
      await expect(lv.NetworkLookupByUUID({ uuid: net.uuid })).resolves.toEqual({ net });
      await expect(lv.NetworkIsActive({ net })).resolves.toEqual({ active: 0 });
      await expect(lv.NetworkIsPersistent({ net })).resolves.toEqual({ persistent: 1 });
    });

    it("switches autostart on and off", async () => {
      await expect(lv.NetworkGetAutostart({ net })).resolves.toEqual({ autostart: 0 });
      await lv.NetworkSetAutostart({ net, autostart: 1 });
      await expect(lv.NetworkGetAutostart({ net })).resolves.toEqual({ autostart: 1 });
      await lv.NetworkSetAutostart({ net, autostart: 0 });
      await expect(lv.NetworkGetAutostart({ net })).resolves.toEqual({ autostart: 0 });
    });

    it("starts, gets a bridge and shows it in its XML", async () => {
      await lv.NetworkCreate({ net });
      await expect(lv.NetworkIsActive({ net })).resolves.toEqual({ active: 1 });
      const { name: bridge } = await lv.NetworkGetBridgeName({ net });
      expect(bridge).toMatch(/^virbr\d+$/);
      const { xml: live } = await lv.NetworkGetXMLDesc({ net, flags: 0 });
      expect(live).toContain(`<name>${netName}</name>`);
      expect(live).toContain(`<bridge name='${bridge}'`);
      expect(live).toContain(`<ip address='${prefix}.1' netmask='255.255.255.0'>`);
    });

    it("is listed among the active persistent networks", async () => {
      const { nets, ret } = await lv.ConnectListAllNetworks({
        need_results: 1,
        flags: ConnectListAllNetworksFlags.ACTIVE | ConnectListAllNetworksFlags.PERSISTENT,
      });
      expect(ret).toBe(nets.length);
      expect(nets).toContainEqual(net);
      const inactive = await lv.ConnectListAllNetworks({
        need_results: 1,
        flags: ConnectListAllNetworksFlags.INACTIVE,
      });
      expect(inactive.nets).not.toContainEqual(net);
    });

    it("adds, modifies and deletes a static DHCP host, live and in its config", async () => {
      const mac = "52:54:00:7e:57:01";
      const host = (ip: string) => `<host mac='${mac}' name='vwtest-host' ip='${prefix}.${ip}'/>`;
      const both = AffectFlags.LIVE | AffectFlags.CONFIG;
      const update = (command: NetworkUpdateCommand, ip: string) =>
        networkUpdate(lv, net, command, NetworkUpdateSection.IP_DHCP_HOST, -1, host(ip), both);
      const xmlOf = async (flags: number) => (await lv.NetworkGetXMLDesc({ net, flags })).xml;

      await update(NetworkUpdateCommand.ADD_LAST, "50");
      expect(await xmlOf(0)).toContain(`ip='${prefix}.50'`);
      expect(await xmlOf(NetworkXMLFlags.INACTIVE)).toContain(`ip='${prefix}.50'`);

      await update(NetworkUpdateCommand.MODIFY, "51");
      expect(await xmlOf(0)).toContain(`ip='${prefix}.51'`);
      expect(await xmlOf(0)).not.toContain(`ip='${prefix}.50'`);

      await update(NetworkUpdateCommand.DELETE, "51");
      expect(await xmlOf(0)).not.toContain(mac);
      expect(await xmlOf(NetworkXMLFlags.INACTIVE)).not.toContain(mac);
    });

    it("refuses to delete a DHCP host it does not have", async () => {
      const error = await rejection(
        networkUpdate(
          lv,
          net,
          NetworkUpdateCommand.DELETE,
          NetworkUpdateSection.IP_DHCP_HOST,
          -1,
          `<host mac='52:54:00:7e:57:99' ip='${prefix}.99'/>`,
          AffectFlags.LIVE,
        ),
      );
      expect(error).toBeInstanceOf(LibvirtError);
      expect(isNotFound(error)).toBe(false);
    });

    it("has no DHCP leases while no guest is attached, with or without a MAC filter", async () => {
      await expect(
        lv.NetworkGetDHCPLeases({ net, mac: null, need_results: 1, flags: 0 }),
      ).resolves.toEqual({ leases: [], ret: 0 });
      await expect(
        lv.NetworkGetDHCPLeases({ net, mac: "52:54:00:7e:57:01", need_results: 1, flags: 0 }),
      ).resolves.toEqual({ leases: [], ret: 0 });
    });

    it("stops, is undefined and then is not found", async () => {
      await lv.NetworkDestroy({ net });
      await expect(lv.NetworkIsActive({ net })).resolves.toEqual({ active: 0 });
      await lv.NetworkUndefine({ net });
      const error = await rejection(lv.NetworkLookupByName({ name: netName }));
      expect(isNoNetwork(error)).toBe(true);
      expect(isNotFound(await rejection(lv.NetworkIsActive({ net })))).toBe(true);
    });
  });

  it("defines a network with validation, and refuses invalid XML", async () => {
    const netName = name("valid");
    const { net } = await lv.NetworkDefineXMLFlags({
      xml: isolatedNetworkXml(netName, randomSubnet()),
      flags: DefineFlags.VALIDATE,
    });
    expect(net.name).toBe(netName);
    await lv.NetworkUndefine({ net });

    const error = await rejection(
      lv.NetworkDefineXMLFlags({
        xml: `<network><name>${name("invalid")}</name><nonsense/></network>`,
        flags: DefineFlags.VALIDATE,
      }),
    );
    expect(error).toMatchObject({ code: ErrorCode.XML_INVALID_SCHEMA });
  });

  it("starts a transient network that disappears when stopped", async () => {
    const netName = name("transient");
    const { net } = await lv.NetworkCreateXML({ xml: isolatedNetworkXml(netName, randomSubnet()) });
    await expect(lv.NetworkIsActive({ net })).resolves.toEqual({ active: 1 });
    await expect(lv.NetworkIsPersistent({ net })).resolves.toEqual({ persistent: 0 });
    await lv.NetworkDestroy({ net });
    expect(isNoNetwork(await rejection(lv.NetworkLookupByUUID({ uuid: net.uuid })))).toBe(true);
  });

  it("starts a transient network with flags", async () => {
    const netName = name("transflags");
    const { net } = await lv.NetworkCreateXMLFlags({
      xml: isolatedNetworkXml(netName, randomSubnet()),
      flags: DefineFlags.VALIDATE,
    });
    await expect(lv.NetworkIsPersistent({ net })).resolves.toEqual({ persistent: 0 });
    await lv.NetworkDestroy({ net });
  });

  it("maps missing networks to the typed not-found error", async () => {
    const missing = uniqueName("missing");
    const byName = await rejection(lv.NetworkLookupByName({ name: missing }));
    expect(isNotFound(byName)).toBe(true);
    expect((byName as LibvirtError).message).toContain(missing);
    const uuid = parseUuid("00000000-0000-4000-8000-00000000beef");
    expect(isNoNetwork(await rejection(lv.NetworkLookupByUUID({ uuid })))).toBe(true);
  });
});
