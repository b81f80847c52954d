import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readNodeDevice } from "./node-device-xml";

/** A device's XML as the test bed's libvirt 9.0 gave it (fixtures/nodedev-9.0-<name>.xml). */
const fixture = (name: string) =>
  readFileSync(join(__dirname, "fixtures", `nodedev-9.0-${name}.xml`), "utf8");

describe("a host device's XML read into typed fields", () => {
  it("gives a PCI device its address as lspci prints it, its ids, driver and parent", () => {
    const xml = fixture("pci_0000_00_04_0");
    expect(readNodeDevice(xml)).toEqual({
      name: "pci_0000_00_04_0",
      parent: "computer",
      path: "/sys/devices/pci0000:00/0000:00:04.0",
      driver: "virtio-pci",
      capability: "pci",
      capabilities: ["pci"],
      pci: {
        address: "0000:00:04.0",
        domain: 0,
        bus: 0,
        slot: 4,
        function: 0,
        vendorId: "0x1af4",
        productId: "0x1053",
        class: "0xffff00",
      },
      xml,
    });
  });

  it("gives the root device no parent and only its capability type", () => {
    const device = readNodeDevice(fixture("computer"));
    expect(device).toMatchObject({ name: "computer", capability: "system" });
    expect(device).not.toHaveProperty("parent");
    expect(device).not.toHaveProperty("pci");
  });

  it("gives a network interface its name, MAC and link state, and not its link type as a capability", () => {
    const device = readNodeDevice(fixture("net_lo_00_00_00_00_00_00"));
    expect(device.capabilities).toEqual(["net"]);
    expect(device.net).toEqual({
      interface: "lo",
      address: "00:00:00:00:00:00",
      linkState: "unknown",
    });
  });

  it("gives a block device its device node, drive type and size in bytes", () => {
    const device = readNodeDevice(fixture("block_vda"));
    expect(device).toMatchObject({ devnode: "/dev/vda", parent: "pci_0000_00_02_0" });
    expect(device.storage).toEqual({
      block: "/dev/vda",
      driveType: "disk",
      vendor: "0x1af4",
      size: 274877906944,
    });
  });

  // The test bed has no USB devices and no IOMMU: these follow libvirt's format
  // (https://libvirt.org/formatnode.html), written here, not read from a daemon.
  it("gives a USB device its bus, device number and named ids", () => {
    const device = readNodeDevice(`<device>
  <name>usb_1_2</name>
  <path>/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2</path>
  <devnode type='dev'>/dev/bus/usb/001/002</devnode>
  <parent>usb_usb1</parent>
  <driver><name>usb</name></driver>
  <capability type='usb_device'>
    <bus>1</bus>
    <device>2</device>
    <product id='0xc52b'>Unifying Receiver</product>
    <vendor id='0x046d'>Logitech, Inc.</vendor>
  </capability>
</device>`);
    expect(device).toMatchObject({ capability: "usb_device", devnode: "/dev/bus/usb/001/002" });
    expect(device.usb).toEqual({
      bus: 1,
      device: 2,
      vendorId: "0x046d",
      vendorName: "Logitech, Inc.",
      productId: "0xc52b",
      productName: "Unifying Receiver",
    });
  });

  it("gives a PCI device with SR-IOV its IOMMU group and nested capabilities, in hex", () => {
    const device = readNodeDevice(`<device>
  <name>pci_0000_3b_00_1</name>
  <parent>pci_0000_3a_00_0</parent>
  <driver><name>vfio-pci</name></driver>
  <capability type='pci'>
    <class>0x020000</class>
    <domain>0</domain>
    <bus>59</bus>
    <slot>0</slot>
    <function>1</function>
    <product id='0x1572'>Ethernet Controller X710 for 10GbE SFP+</product>
    <vendor id='0x8086'>Intel Corporation</vendor>
    <capability type='virt_functions' maxCount='64'/>
    <iommuGroup number='42'>
      <address domain='0x0000' bus='0x3b' slot='0x00' function='0x1'/>
    </iommuGroup>
  </capability>
</device>`);
    expect(device.capabilities).toEqual(["pci", "virt_functions"]);
    expect(device.pci).toMatchObject({
      address: "0000:3b:00.1",
      bus: 59,
      iommuGroup: 42,
      vendorName: "Intel Corporation",
      productName: "Ethernet Controller X710 for 10GbE SFP+",
    });
  });
});
