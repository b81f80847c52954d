import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ErrorCode,
  Libvirt,
  LibvirtError,
  RemoteNonnullDomain,
  isNoDomain,
  isNotFound,
  parseUuid,
} from "../../rpc/internal";
import {
  AffectFlags,
  DefineFlags,
  DomainBlockResizeFlags,
  DomainCreateFlags,
  DomainDestroyFlags,
  DomainGetHostnameFlags,
  DomainInterfaceAddressesSource,
  DomainMetadataType,
  DomainShutdownFlags,
  DomainState,
  DomainUndefineFlags,
  DomainVcpuFlags,
  DomainXMLFlags,
  IPAddrType,
} from "../../rpc/protocol/remote";
import { guestDomainXml } from "../support/guest";
import { rejection, waitFor } from "../support/promises";
import {
  connectTestbed,
  isolatedNetworkXml,
  randomMac,
  randomSubnet,
  recordedNames,
  uniqueName,
} from "../support/testbed";

const MiB = 1024n;

// Guests boot under TCG on two cores; starting and destroying one takes seconds.
jest.setTimeout(60_000);

/** A guest without a kernel to boot: it sits in the BIOS, ignoring the power button. */
function idleGuestXml(name: string): string {
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu current='1'>2</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <features><acpi/></features>
  <devices></devices>
</domain>`;
}

describe("the domain procedures against the test bed daemon", () => {
  let lv: Libvirt;
  let scratch: string;
  const netName = uniqueName("domnet");
  const subnet = randomSubnet();
  const { name, names: created } = recordedNames();

  beforeAll(async () => {
    lv = await connectTestbed();
    scratch = await mkdtemp(join(tmpdir(), "vwtest-domain-"));
    await lv.NetworkCreateXML({ xml: isolatedNetworkXml(netName, subnet) });
  });

  afterAll(async () => {
    for (const domain of created) {
      const found = await lv.DomainLookupByName({ name: domain }).catch(() => null);
      if (!found) continue;
      await lv.DomainDestroy(found).catch(() => undefined);
      const flags = DomainUndefineFlags.MANAGED_SAVE;
      await lv.DomainUndefineFlags({ ...found, flags }).catch(() => undefined);
    }
    const net = await lv.NetworkLookupByName({ name: netName }).catch(() => null);
    if (net) await lv.NetworkDestroy(net).catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
    await lv?.close();
  });

  const stateOf = async (dom: RemoteNonnullDomain) =>
    (await lv.DomainGetState({ dom, flags: 0 })).state;
  const untilState = (dom: RemoteNonnullDomain, state: DomainState) =>
    waitFor(`state ${DomainState[state]}`, async () =>
      (await stateOf(dom)) === state ? true : undefined,
    );

  describe("a persistent guest that boots the test kernel", () => {
    const domName = name("guest");
    const mac = randomMac();
    let serialLog: string;
    let dom: RemoteNonnullDomain;
    /** Waits until the guest has taken its `count`-th DHCP lease since the domain started. */
    const untilBooted = (count: number) =>
      waitFor(`boot ${count} of ${domName}`, async () => {
        const log = await readFile(serialLog, "utf8").catch(() => "");
        return log.split("VIRTWIRE-GUEST: lease ").length > count ? true : undefined;
      });
    const liveXml = async () => (await lv.DomainGetXMLDesc({ dom, flags: 0 })).xml;

    it("is defined shut off, and found by name and UUID", async () => {
      serialLog = join(scratch, "serial.log");
      const disk = join(scratch, "vdb.img");
      await writeFile(disk, Buffer.alloc(1024 * 1024));
      const devices = `<disk type='file' device='disk'><driver name='qemu' type='raw'/>
      <source file='${disk}'/><target dev='vdb' bus='virtio'/></disk>`;
      const xml = guestDomainXml(domName, {
        serialLog,
        network: netName,
        mac,
        maxVcpus: 2,
        devices,
      });
      ({ dom } = await lv.DomainDefineXML({ xml }));
      expect(dom).toMatchObject({ name: domName, id: -1 });
      await expect(lv.DomainLookupByName({ name: domName })).resolves.toEqual({ dom });
      await expect(lv.DomainLookupByUUID({ uuid: dom.uuid })).resolves.toEqual({ dom });
      await expect(lv.DomainIsActive({ dom })).resolves.toEqual({ active: 0 });
      await expect(lv.DomainIsPersistent({ dom })).resolves.toEqual({ persistent: 1 });
      expect(await stateOf(dom)).toBe(DomainState.SHUTOFF);
      const info = await lv.DomainGetInfo({ dom });
      expect(info).toMatchObject({ state: DomainState.SHUTOFF, maxMem: 128n * MiB, nrVirtCpu: 1 });
    });

    it("switches autostart on and off", async () => {
      await lv.DomainSetAutostart({ dom, autostart: 1 });
      await expect(lv.DomainGetAutostart({ dom })).resolves.toEqual({ autostart: 1 });
      await lv.DomainSetAutostart({ dom, autostart: 0 });
      await expect(lv.DomainGetAutostart({ dom })).resolves.toEqual({ autostart: 0 });
    });

    it("keeps a title, a description and a custom metadata element", async () => {
      const uri = "https://virtwire.example/test";
      const set = (type: DomainMetadataType, metadata: string | null, key: string | null = null) =>
        lv.DomainSetMetadata({ dom, type, metadata, key, uri: key && uri, flags: 0 });
      const get = (type: DomainMetadataType) =>
        lv.DomainGetMetadata({
          dom,
          type,
          uri: type === DomainMetadataType.ELEMENT ? uri : null,
          flags: 0,
        });
      await set(DomainMetadataType.TITLE, "a title");
      await set(DomainMetadataType.DESCRIPTION, "a description");
      await set(DomainMetadataType.ELEMENT, "<stack>test</stack>", "vw");
      await expect(get(DomainMetadataType.TITLE)).resolves.toEqual({ metadata: "a title" });
      await expect(get(DomainMetadataType.DESCRIPTION)).resolves.toEqual({
        metadata: "a description",
      });
      expect((await get(DomainMetadataType.ELEMENT)).metadata).toMatch(/<stack[^>]*>test<\/stack>/);
      await set(DomainMetadataType.TITLE, null);
      const error = await rejection(get(DomainMetadataType.TITLE));
      expect(error).toMatchObject({ code: ErrorCode.NO_DOMAIN_METADATA });
    });

    it("changes its memory and vCPU configuration while shut off", async () => {
      await lv.DomainSetMaxMemory({ dom, memory: 160n * MiB });
      await expect(lv.DomainGetMaxMemory({ dom })).resolves.toEqual({ memory: 160n * MiB });
      await lv.DomainSetMemoryFlags({ dom, memory: 128n * MiB, flags: AffectFlags.CONFIG });
      expect(await liveXml()).toContain("<currentMemory unit='KiB'>131072</currentMemory>");
      const vcpus = (flags: number) => lv.DomainGetVcpusFlags({ dom, flags });
      const maximum = AffectFlags.CONFIG | DomainVcpuFlags.MAXIMUM;
      await expect(vcpus(maximum)).resolves.toEqual({ num: 2 });
      await lv.DomainSetVcpusFlags({ dom, nvcpus: 2, flags: AffectFlags.CONFIG });
      await expect(vcpus(AffectFlags.CONFIG)).resolves.toEqual({ num: 2 });
      await lv.DomainSetVcpusFlags({ dom, nvcpus: 1, flags: AffectFlags.CONFIG });
    });

    it("attaches and detaches a device in its config", async () => {
      const nic = `<interface type='network'><source network='${netName}'/>
        <mac address='52:54:00:7e:57:aa'/><model type='virtio'/></interface>`;
      await lv.DomainAttachDeviceFlags({ dom, xml: nic, flags: AffectFlags.CONFIG });
      expect(await liveXml()).toContain("52:54:00:7e:57:aa");
      await lv.DomainDetachDeviceFlags({ dom, xml: nic, flags: AffectFlags.CONFIG });
      expect(await liveXml()).not.toContain("52:54:00:7e:57:aa");
    });

    it("starts, gets an id and boots to a DHCP lease", async () => {
      await lv.DomainCreate({ dom });
      const { dom: running } = await lv.DomainLookupByName({ name: domName });
      expect(running.id).toBeGreaterThan(0);
      await expect(lv.DomainLookupByID({ id: running.id })).resolves.toEqual({ dom: running });
      await expect(lv.DomainIsActive({ dom })).resolves.toEqual({ active: 1 });
      await expect(lv.DomainIsUpdated({ dom })).resolves.toEqual({ updated: 0 });
      const { domains } = await lv.ConnectListAllDomains({ need_results: 1, flags: 1 });
      expect(domains).toContainEqual(running);
      await untilBooted(1);
    }, 120_000);

    it("reports its address from the network's leases", async () => {
      const { ifaces } = await waitFor("an interface address", async () => {
        const source = DomainInterfaceAddressesSource.LEASE;
        const found = await lv.DomainInterfaceAddresses({ dom, source, flags: 0 });
        return found.ifaces.length > 0 ? found : undefined;
      });
      expect(ifaces).toEqual([
        {
          name: expect.stringMatching(/^vnet\d+$/),
          hwaddr: mac,
          addrs: [{ type: IPAddrType.IPV4, addr: expect.stringMatching(subnet), prefix: 24 }],
        },
      ]);
      const { uuid } = (await lv.NetworkLookupByName({ name: netName })).net;
      const net = { name: netName, uuid };
      const { leases } = await lv.NetworkGetDHCPLeases({ net, mac, need_results: 1, flags: 0 });
      expect(leases).toEqual([
        expect.objectContaining({
          mac,
          ipaddr: ifaces[0]!.addrs[0]!.addr,
          type: IPAddrType.IPV4,
          hostname: "virtwire-guest",
        }),
      ]);
      await expect(
        lv.DomainGetHostname({ dom, flags: DomainGetHostnameFlags.LEASE }),
      ).resolves.toEqual({ hostname: "virtwire-guest" });
    }, 120_000);

    it("needs the guest agent for agent sources and guest info", async () => {
      const source = DomainInterfaceAddressesSource.AGENT;
      // One at a time: a call made before the previous one is awaited could reject unhandled.
      for (const call of [
        () => lv.DomainInterfaceAddresses({ dom, source, flags: 0 }),
        () => lv.DomainGetGuestInfo({ dom, types: 0, flags: 0 }),
        () => lv.DomainGetHostname({ dom, flags: DomainGetHostnameFlags.AGENT }),
      ]) {
        const error = await rejection(call());
        expect(error).toMatchObject({ code: ErrorCode.ARGUMENT_UNSUPPORTED });
        expect((error as LibvirtError).message).toMatch(/guest agent is not configured/);
      }
    });

    it("is suspended and resumed", async () => {
      await lv.DomainSuspend({ dom });
      expect(await stateOf(dom)).toBe(DomainState.PAUSED);
      await lv.DomainResume({ dom });
      expect((await lv.DomainGetInfo({ dom })).state).toBe(DomainState.RUNNING);
    });

    it("takes balloon targets up to its maximum memory, and refuses more", async () => {
      // The test guest has no balloon driver, so the targets are accepted but not reached.
      await lv.DomainSetMemory({ dom, memory: 112n * MiB });
      await lv.DomainSetMemoryFlags({ dom, memory: 96n * MiB, flags: AffectFlags.LIVE });
      const error = await rejection(lv.DomainSetMemory({ dom, memory: 1024n * MiB }));
      expect(error).toMatchObject({ code: ErrorCode.INVALID_ARG });
      expect((error as LibvirtError).message).toMatch(/max memory/);
    });

    it("hot-plugs a second vCPU", async () => {
      await lv.DomainSetVcpus({ dom, nvcpus: 2 });
      await expect(lv.DomainGetVcpusFlags({ dom, flags: AffectFlags.LIVE })).resolves.toEqual({
        num: 2,
      });
      expect((await lv.DomainGetInfo({ dom })).nrVirtCpu).toBe(2);
    });

    it("reports and grows a disk while running", async () => {
      const before = await lv.DomainGetBlockInfo({ dom, path: "vdb", flags: 0 });
      expect(before.capacity).toBe(1024n * 1024n);
      const flags = DomainBlockResizeFlags.BYTES;
      await lv.DomainBlockResize({ dom, disk: "vdb", size: 2n * 1024n * 1024n, flags });
      const after = await lv.DomainGetBlockInfo({ dom, path: "vdb", flags: 0 });
      expect(after.capacity).toBe(2n * 1024n * 1024n);
    });

    it("hot-plugs and unplugs USB input devices, by XML and by alias", async () => {
      const tablet = "<input type='tablet' bus='usb'><alias name='ua-vwtablet'/></input>";
      const keyboard = "<input type='keyboard' bus='usb'><alias name='ua-vwkeyboard'/></input>";
      await lv.DomainAttachDevice({ dom, xml: tablet });
      await lv.DomainAttachDeviceFlags({ dom, xml: keyboard, flags: AffectFlags.LIVE });
      expect(await liveXml()).toMatch(/ua-vwtablet[\s\S]*ua-vwkeyboard/);
      await lv.DomainDetachDeviceAlias({ dom, alias: "ua-vwtablet", flags: AffectFlags.LIVE });
      await lv.DomainDetachDevice({ dom, xml: keyboard });
      await waitFor("the input devices to go", async () =>
        /ua-vw(tablet|keyboard)/.test(await liveXml()) ? undefined : true,
      );
    });

    it("takes a link down and up through a live device update", async () => {
      const nic = (state: string) => `<interface type='network'><mac address='${mac}'/>
        <source network='${netName}'/><model type='virtio'/><link state='${state}'/></interface>`;
      await lv.DomainUpdateDeviceFlags({ dom, xml: nic("down"), flags: AffectFlags.LIVE });
      expect(await liveXml()).toContain("<link state='down'/>");
      await lv.DomainUpdateDeviceFlags({ dom, xml: nic("up"), flags: AffectFlags.LIVE });
      expect(await liveXml()).not.toContain("<link state='down'/>");
    });

    it("reboots through ACPI, is reset, and shuts down through ACPI", async () => {
      await lv.DomainReboot({ dom, flags: DomainShutdownFlags.ACPI_POWER_BTN });
      await untilBooted(2);
      await lv.DomainReset({ dom, flags: 0 });
      await untilBooted(3);
      await lv.DomainShutdown({ dom });
      await untilState(dom, DomainState.SHUTOFF);
    }, 300_000);

    it("saves a started-paused guest to a managed image and removes the image", async () => {
      const { dom: started } = await lv.DomainCreateWithFlags({
        dom,
        flags: DomainCreateFlags.START_PAUSED,
      });
      expect(started.id).toBeGreaterThan(0);
      expect(await stateOf(dom)).toBe(DomainState.PAUSED);
      await lv.DomainManagedSave({ dom, flags: 0 });
      expect(await stateOf(dom)).toBe(DomainState.SHUTOFF);
      await expect(lv.DomainHasManagedSaveImage({ dom, flags: 0 })).resolves.toEqual({ result: 1 });
      await lv.DomainManagedSaveRemove({ dom, flags: 0 });
      await expect(lv.DomainHasManagedSaveImage({ dom, flags: 0 })).resolves.toEqual({ result: 0 });
    });

    it("is destroyed, undefined and then not found", async () => {
      await lv.DomainCreateWithFlags({ dom, flags: DomainCreateFlags.START_PAUSED });
      await lv.DomainDestroy({ dom });
      expect(await stateOf(dom)).toBe(DomainState.SHUTOFF);
      await lv.DomainUndefineFlags({ dom, flags: DomainUndefineFlags.MANAGED_SAVE });
      expect(isNoDomain(await rejection(lv.DomainLookupByName({ name: domName })))).toBe(true);
    });
  });

  it("runs a transient guest that ignores the power button until destroyed", async () => {
    const xml = idleGuestXml(name("transient"));
    const { dom } = await lv.DomainCreateXML({ xml_desc: xml, flags: DomainCreateFlags.NONE });
    await expect(lv.DomainIsPersistent({ dom })).resolves.toEqual({ persistent: 0 });
    await lv.DomainShutdownFlags({ dom, flags: DomainShutdownFlags.ACPI_POWER_BTN });
    expect(await stateOf(dom)).toBe(DomainState.RUNNING);
    await lv.DomainDestroyFlags({ dom, flags: DomainDestroyFlags.DEFAULT });
    expect(isNotFound(await rejection(lv.DomainLookupByUUID({ uuid: dom.uuid })))).toBe(true);
  });

  it("defines with schema validation, and refuses invalid XML", async () => {
    const xml = idleGuestXml(name("valid"));
    const { dom } = await lv.DomainDefineXMLFlags({ xml, flags: DefineFlags.VALIDATE });
    const { xml: inactive } = await lv.DomainGetXMLDesc({ dom, flags: DomainXMLFlags.INACTIVE });
    expect(inactive).toContain(`<name>${dom.name}</name>`);
    await lv.DomainUndefine({ dom });
    const invalid = xml.replace("<features>", "<nonsense/><features>");
    const error = await rejection(
      lv.DomainDefineXMLFlags({ xml: invalid, flags: DefineFlags.VALIDATE }),
    );
    expect(error).toMatchObject({ code: ErrorCode.XML_INVALID_SCHEMA });
  });

  it("maps missing domains to the typed not-found error", async () => {
    const uuid = parseUuid("00000000-0000-4000-8000-00000000beef");
    expect(isNoDomain(await rejection(lv.DomainLookupByUUID({ uuid })))).toBe(true);
    expect(isNoDomain(await rejection(lv.DomainLookupByID({ id: 999_999 })))).toBe(true);
  });
});
