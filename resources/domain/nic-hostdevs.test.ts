import { ErrorCode, ErrorDomain, LibvirtError } from "../../rpc";
import { ErrorLevel } from "../../rpc/protocol/error-codes";
import type { DomainInputs, DomainOutputs } from "../kit/generated/types";
import { checkDomain } from "./check";
import { classifyChanges } from "./diff";
import { explainHostdevStart } from "./hostdev-start";
import { checkedDomain } from "./normalize";
import { planDomain } from "./plan";
import { buildDomainXml } from "./xml-build";
import { readDomainXml } from "./xml-read";

const base: DomainInputs = { name: "vm", type: "qemu", memory: "128MiB" };
const nics: DomainInputs["networkInterfaces"] = [
  {
    network: "lab",
    mac: "52:54:00:00:00:01",
    mtu: 1400,
    linkState: "down",
    bandwidth: { inbound: { average: 1000, peak: 2000, burst: 1024 }, outbound: { average: 500 } },
    filter: { name: "clean-traffic", parameters: { IP: "10.0.0.5" } },
  },
  { direct: { device: "eth0", mode: "bridge" }, mac: "52:54:00:00:00:02" },
  { direct: { device: "eth1" }, mac: "52:54:00:00:00:03" },
];
const hostdevs: DomainInputs["hostdevs"] = [
  { pci: "0000:03:1F.7" },
  { pci: "0000:04:00.0", managed: false },
  { usb: { vendor: "0x046D", product: "0xc077" } },
  { usb: { bus: 1, device: 5 } },
  { mdev: { uuid: "C2177883-F1BB-47F0-914D-32A22E3A8804" } },
];
const everything: DomainInputs = { ...base, networkInterfaces: nics, hostdevs };

const reasons = (inputs: DomainInputs) =>
  checkDomain(checkedDomain(inputs)).map((f) => `${f.property}: ${f.reason}`);

const xmlOf = (inputs: DomainInputs) =>
  buildDomainXml(planDomain(checkedDomain(inputs), undefined, new Map()));

/** What a read of the domain libvirt defined from `inputs` gives, as outputs. */
function definedAs(inputs: DomainInputs, running = true): DomainOutputs {
  const read = readDomainXml(xmlOf(inputs));
  return {
    ...(checkedDomain(inputs) as unknown as DomainOutputs),
    // The DHCP entries as withDhcpEntries reads them from the network: what was asked.
    networkInterfaces: read.networkInterfaces.map((nic, index) => {
      const { address, hostname } = inputs.networkInterfaces?.[index] ?? {};
      return { ...nic, ...(address && { address }), ...(hostname && { hostname }) };
    }),
    hostdevs: read.hostdevs,
    running,
  };
}

/** The changes of interfaces and host devices (the rest of `definedAs` is not libvirt's). */
const changes = (from: DomainInputs, to: DomainInputs) =>
  classifyChanges(definedAs(from), to)
    .changes.filter((c) => ["networkInterfaces", "hostdevs"].includes(c.property))
    .map((c) => [c.class, c.detail]);

describe("interfaces' extras and host devices in the domain XML", () => {
  it("writes a macvtap interface, MTU, link state, shaping and a filter reference", () => {
    const xml = xmlOf(everything);
    expect(xml).toContain('<source dev="eth0" mode="bridge"/>');
    expect(xml).toContain('<source dev="eth1" mode="vepa"/>');
    expect(xml).toContain('<mtu size="1400"/>');
    expect(xml).toContain('<link state="down"/>');
    expect(xml).toContain('<inbound average="1000" peak="2000" burst="1024"/>');
    expect(xml).toContain('<outbound average="500"/>');
    expect(xml).toMatch(
      /<filterref filter="clean-traffic">\s*<parameter name="IP" value="10.0.0.5"\/>/,
    );
  });

  it("gives an interface with a fixed address a MAC of its own and marks it with an alias", () => {
    const xml = xmlOf({ ...base, networkInterfaces: [{ network: "lab", address: "10.0.0.5" }] });
    const mac = /<mac address="(52:54:00:[0-9a-f:]{8})"\/>/.exec(xml)?.[1];
    expect(mac).toBeDefined();
    expect(xml).toContain(`<alias name="ua-vw-dhcp-${mac!.replace(/:/g, "")}"/>`);
    expect(readDomainXml(xml).dhcpMacs).toEqual([mac]);
  });

  it("writes each kind of host device, managed only for PCI", () => {
    const xml = xmlOf(everything);
    expect(xml).toContain('<hostdev mode="subsystem" type="pci" managed="yes">');
    expect(xml).toContain('<address domain="0x0000" bus="0x03" slot="0x1f" function="0x7"/>');
    expect(xml).toContain('<hostdev mode="subsystem" type="pci" managed="no">');
    expect(xml).toMatch(/<vendor id="0x046d"\/>\s*<product id="0xc077"\/>/);
    expect(xml).toContain('<address bus="1" device="5"/>');
    expect(xml).toContain('<hostdev mode="subsystem" type="mdev" model="vfio-pci">');
    expect(xml).toContain('<address uuid="c2177883-f1bb-47f0-914d-32a22e3a8804"/>');
  });

  it("reads back what it wrote, and ignores libvirt's own managed on USB and mediated devices", () => {
    const read = readDomainXml(xmlOf(everything).replace('type="usb"', 'type="usb" managed="no"'));
    expect(read.hostdevs).toEqual([
      { pci: "0000:03:1f.7", managed: true },
      { pci: "0000:04:00.0", managed: false },
      { usb: { vendor: "0x046d", product: "0xc077" } },
      { usb: { bus: 1, device: 5 } },
      { mdev: { uuid: "c2177883-f1bb-47f0-914d-32a22e3a8804", model: "vfio-pci" } },
    ]);
    expect(read.networkInterfaces[0]).toEqual({ ...nics[0], model: "virtio" });
    expect(read.networkInterfaces[2]).toMatchObject({
      direct: { device: "eth1", mode: "vepa" },
      linkState: "up",
    });
  });

  it("sees no change between what it wrote and what it reads back, spelling aside", () => {
    expect(changes(everything, everything)).toEqual([]);
    const empty = [{ network: "lab", bandwidth: {}, filter: { name: "f", parameters: {} } }];
    expect(
      changes({ ...base, networkInterfaces: empty }, { ...base, networkInterfaces: empty }),
    ).toEqual([]);
  });
});

describe("how changes of interfaces' extras and host devices are applied", () => {
  const withNic = (extra: object): DomainInputs => ({
    ...base,
    networkInterfaces: [{ network: "lab", mac: "52:54:00:00:00:01", ...extra }],
  });

  it("changes the link state live, and nothing else of an interface", () => {
    expect(changes(withNic({}), withNic({ linkState: "down" }))).toEqual([
      ["live", "networkInterfaces: 52:54:00:00:00:01 (on network lab) link up → down"],
    ]);
    expect(changes(withNic({ linkState: "down" }), withNic({}))).toEqual([
      ["live", "networkInterfaces: 52:54:00:00:00:01 (on network lab) link down → up"],
    ]);
    for (const extra of [
      { mtu: 9000 },
      { bandwidth: { inbound: { average: 10 } } },
      { filter: { name: "clean-traffic" } },
      { linkState: "down", mtu: 9000 },
    ]) {
      expect(changes(withNic({}), withNic(extra))).toEqual([
        ["restart", "networkInterfaces: 52:54:00:00:00:01 (on network lab) changed"],
      ]);
    }
  });

  it("changes a fixed address and host name live (the network's DHCP entry), with the link state", () => {
    const fixed = { address: "10.0.0.5", hostname: "web" };
    expect(changes(withNic({}), withNic(fixed))).toEqual([
      [
        "live",
        "networkInterfaces: 52:54:00:00:00:01 (on network lab) address unset → 10.0.0.5, hostname unset → web",
      ],
    ]);
    expect(changes(withNic(fixed), withNic({ linkState: "down" }))).toEqual([
      [
        "live",
        "networkInterfaces: 52:54:00:00:00:01 (on network lab) link up → down, address 10.0.0.5 → unset, hostname web → unset",
      ],
    ]);
  });

  it("takes an MTU, shaping or a filter away with a restart, as libvirt never adds them itself", () => {
    const extras = { mtu: 1400, bandwidth: { outbound: { average: 10 } }, filter: { name: "f" } };
    for (const key of Object.keys(extras)) {
      const rest: Record<string, unknown> = { ...extras };
      delete rest[key];
      expect(changes(withNic(extras), withNic(rest))).toEqual([
        ["restart", "networkInterfaces: 52:54:00:00:00:01 (on network lab) changed"],
      ]);
    }
  });

  it("plugs a macvtap interface in live, and a new host interface or mode restarts", () => {
    const direct = (device: string, mode?: "bridge") => ({
      ...base,
      networkInterfaces: [{ direct: { device, mode } }],
    });
    expect(changes(base, direct("eth0"))).toEqual([
      ["live", "networkInterfaces: attach on direct eth0"],
    ]);
    expect(changes(direct("eth0"), direct("eth0", "bridge"))[0]![0]).toBe("restart");
    expect(changes(direct("eth0"), direct("eth1"))[0]![0]).toBe("restart");
  });

  it("restarts for any change of host devices, and only then", () => {
    const one = { ...base, hostdevs: [{ pci: "0000:03:00.0" }] };
    expect(changes(base, one)).toEqual([["restart", "hostdevs changed"]]);
    expect(changes(one, base)).toEqual([["restart", "hostdevs changed"]]);
    expect(changes(one, { ...base, hostdevs: [{ pci: "0000:03:00.0", managed: false }] })).toEqual([
      ["restart", "hostdevs changed"],
    ]);
    expect(changes(one, { ...base, hostdevs: [{ pci: "0000:03:00.0", managed: true }] })).toEqual(
      [],
    );
  });
});

describe("check() of interfaces' extras and host devices", () => {
  it("wants a fixed address to be an IP address on a libvirt network, and a host name with one", () => {
    expect(
      reasons({
        ...base,
        networkInterfaces: [
          { network: "lab", address: "10.0.0.300" },
          { bridge: "br0", address: "10.0.0.5" },
          { network: "lab", hostname: "web" },
        ],
      }),
    ).toEqual([
      'networkInterfaces[0].address: networkInterfaces[0].address "10.0.0.300" is not an IP address: use e.g. 192.168.122.50',
      "networkInterfaces[1].address: networkInterfaces[1].address needs a libvirt network (network): a fixed address is a DHCP host entry of that network; on a bridge or direct interface set it in the guest",
      "networkInterfaces[2].hostname: networkInterfaces[2].hostname needs address: it is the name of the interface's DHCP host entry",
    ]);
  });

  it("accepts every kind", () => {
    expect(reasons(everything)).toEqual([]);
  });

  it("wants one attachment per interface", () => {
    expect(
      reasons({ ...base, networkInterfaces: [{ network: "lab", direct: { device: "eth0" } }] }),
    ).toEqual([
      "networkInterfaces[0]: networkInterfaces[0] needs exactly one of network (a libvirt network), bridge (a host bridge) or direct (a host interface, macvtap)",
    ]);
  });

  it("refuses filter variables libvirt would not take, an MTU on macvtap and shaping a passthrough interface", () => {
    expect(
      reasons({
        ...base,
        networkInterfaces: [
          { network: "lab", filter: { name: "clean-traffic", parameters: { "my ip": "1" } } },
          {
            direct: { device: "eth0", mode: "passthrough" },
            bandwidth: { inbound: { average: 1 } },
            mtu: 9000,
          },
        ],
      }),
    ).toEqual([
      'networkInterfaces[0].filter.parameters: networkInterfaces[0].filter.parameters has "my ip", which is not a filter variable name: use letters, digits and _ only (e.g. IP, DHCPSERVER)',
      "networkInterfaces[1].mtu: networkInterfaces[1].mtu cannot be set on a direct interface (it has the MTU of host interface eth0): set the MTU there, or remove mtu",
      'networkInterfaces[1].bandwidth: networkInterfaces[1].bandwidth cannot shape a direct interface in passthrough mode (the guest owns the host interface): remove bandwidth, or use mode "bridge"',
    ]);
  });

  it("wants one kind per host device, whole USB ids, and each device once", () => {
    expect(
      reasons({
        ...base,
        hostdevs: [
          {},
          { pci: "0000:03:00.0", usb: { bus: 1, device: 2 } },
          { usb: { vendor: "0x1234" } },
          { usb: { bus: 1 } },
          { pci: "0000:03:00.0" },
          { pci: "0000:03:00.0" },
        ],
      }),
    ).toEqual([
      'hostdevs[0]: hostdevs[0] needs exactly one of pci (e.g. "0000:03:00.0"), usb ({ vendor, product } or { bus, device }) or mdev ({ uuid })',
      'hostdevs[1]: hostdevs[1] needs exactly one of pci (e.g. "0000:03:00.0"), usb ({ vendor, product } or { bus, device }) or mdev ({ uuid }); it has pci and usb',
      "hostdevs[2].usb: hostdevs[2].usb needs both vendor and product (lsusb shows them as vendor:product, e.g. 046d:c077)",
      'hostdevs[3].usb: hostdevs[3].usb needs both bus and device (lsusb shows "Bus 001 Device 005")',
      "hostdevs[5]: hostdevs[5] is the same host device as hostdevs[4]: a device can be given to a guest once; remove one",
    ]);
  });
});

describe("a start that fails on a host device", () => {
  const refusal = (code: ErrorCode) =>
    new LibvirtError({
      code,
      domain: ErrorDomain.QEMU,
      message: "unsupported configuration: host doesn't support passthrough of host PCI devices",
      level: ErrorLevel.ERROR,
      str1: null,
      str2: null,
      str3: null,
      int1: -1,
      int2: -1,
    });

  it("keeps libvirt's message first and names each device as a possible cause, by the error code", () => {
    const error = refusal(ErrorCode.CONFIG_UNSUPPORTED);
    const explained = explainHostdevStart(error, "vm", [
      { pci: "0000:03:00.0", managed: true },
      { usb: { vendor: "0x046d", product: "0xc077" } },
    ]) as Error;
    expect(explained.message).toContain(
      "domain vm did not start: unsupported configuration: host doesn't support passthrough of host PCI devices (libvirt error VIR_ERR_CONFIG_UNSUPPORTED). Its host devices may be the cause",
    );
    expect(explained.message).toContain(
      "hostdevs[0] PCI device 0000:03:00.0: it exists (lspci -D -s 0000:03:00.0)",
    );
    expect(explained.message).toContain(
      "hostdevs[1] USB device 0x046d:0xc077: it is plugged in (lsusb)",
    );
    expect(explained.cause).toBe(error);
  });

  it("leaves other failures, and domains without host devices, as they are", () => {
    const other = refusal(ErrorCode.NO_NETWORK);
    expect(explainHostdevStart(other, "vm", [{ pci: "0000:03:00.0" }])).toBe(other);
    const device = refusal(ErrorCode.SYSTEM_ERROR);
    expect(explainHostdevStart(device, "vm", [])).toBe(device);
  });
});
