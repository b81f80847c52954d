/**
 * Host devices (https://libvirt.org/formatdomain.html#host-device-assignment), written into
 * `<devices>` and read back:
 *
 *   <hostdev mode="subsystem" type="pci" managed="yes|no">
 *     <source><address domain="0x0000" bus="0x03" slot="0x00" function="0x0"/></source>
 *   </hostdev>
 *   <hostdev mode="subsystem" type="usb">
 *     <source><vendor id="0x046d"/><product id="0xc077"/></source>  or  <source><address bus="1" device="5"/></source>
 *   </hostdev>
 *   <hostdev mode="subsystem" type="mdev" model="vfio-pci">
 *     <source><address uuid="…"/></source>
 *   </hostdev>
 *
 * `managed` is written for PCI only, where it means something (libvirt binds the device to
 * vfio-pci at start); libvirt's own `managed` on other types is never read. libvirt adds a guest
 * PCI address and an alias of its own: never read. SCSI and other host devices are left alone.
 */
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces";
import { attr, element, elements } from "../kit/xml";
import type { XmlNode } from "../kit/xml";
import type { DomainHostdev, DomainHostdevUsb, DomainMdevModel } from "../kit/generated/types";

export function addHostdevs(devices: XMLBuilder, hostdevs: DomainHostdev[]): void {
  for (const hostdev of hostdevs) addHostdev(devices, hostdev);
}

function addHostdev(devices: XMLBuilder, hostdev: DomainHostdev): void {
  if (hostdev.pci !== undefined) {
    const node = devices.ele("hostdev", {
      mode: "subsystem",
      type: "pci",
      managed: hostdev.managed === false ? "no" : "yes",
    });
    node.ele("source").ele("address", pciAddress(hostdev.pci));
  } else if (hostdev.usb) {
    const source = devices.ele("hostdev", { mode: "subsystem", type: "usb" }).ele("source");
    const usb = hostdev.usb;
    if (usb.vendor !== undefined) source.ele("vendor", { id: usb.vendor.toLowerCase() });
    if (usb.product !== undefined) source.ele("product", { id: usb.product.toLowerCase() });
    if (usb.bus !== undefined || usb.device !== undefined) {
      source.ele("address", { bus: String(usb.bus ?? 0), device: String(usb.device ?? 0) });
    }
  } else if (hostdev.mdev) {
    devices
      .ele("hostdev", { mode: "subsystem", type: "mdev", model: hostdev.mdev.model ?? "vfio-pci" })
      .ele("source")
      .ele("address", { uuid: hostdev.mdev.uuid.toLowerCase() });
  }
}

/** `0000:03:00.0` → libvirt's address attributes. */
function pciAddress(address: string): Record<string, string> {
  const [domain, bus, rest] = address.toLowerCase().split(":") as [string, string, string];
  const [slot, fn] = rest.split(".") as [string, string];
  return { domain: `0x${domain}`, bus: `0x${bus}`, slot: `0x${slot}`, function: `0x${fn}` };
}

export function readHostdevs(devices: XmlNode | undefined): DomainHostdev[] {
  return elements(devices, "hostdev").flatMap(readHostdev);
}

function readHostdev(node: XmlNode): DomainHostdev[] {
  if (attr(node, "mode") !== "subsystem") return [];
  const source = element(node, "source");
  const address = element(source, "address");
  switch (attr(node, "type")) {
    case "pci":
      return [{ pci: formatPci(address), managed: attr(node, "managed") === "yes" }];
    case "usb": {
      const usb: DomainHostdevUsb = {};
      const vendor = attr(element(source, "vendor"), "id");
      const product = attr(element(source, "product"), "id");
      if (vendor !== undefined) usb.vendor = hex4(vendor);
      if (product !== undefined) usb.product = hex4(product);
      if (address !== undefined) {
        usb.bus = Number(attr(address, "bus"));
        usb.device = Number(attr(address, "device"));
      }
      return [{ usb }];
    }
    case "mdev":
      return [
        {
          mdev: {
            uuid: attr(address, "uuid") ?? "",
            model: attr(node, "model") as DomainMdevModel,
          },
        },
      ];
    default:
      return [];
  }
}

/** libvirt's `0x0000`, `0x03`, `0x00`, `0x0` → `0000:03:00.0`. */
function formatPci(address: XmlNode | undefined): string {
  const part = (name: string, digits: number) =>
    parseInt(attr(address, name) ?? "0", 16)
      .toString(16)
      .padStart(digits, "0");
  return `${part("domain", 4)}:${part("bus", 2)}:${part("slot", 2)}.${part("function", 1)}`;
}

function hex4(id: string): string {
  return `0x${parseInt(id, 16).toString(16).padStart(4, "0")}`;
}

/** A host device as compared with libvirt's: lower-case hex, `managed` only where it counts. */
export function comparableHostdev(hostdev: DomainHostdev): DomainHostdev {
  if (hostdev.pci !== undefined) {
    return { pci: hostdev.pci.toLowerCase(), managed: hostdev.managed !== false };
  }
  if (hostdev.usb) {
    const usb: DomainHostdevUsb = { ...hostdev.usb };
    if (usb.vendor !== undefined) usb.vendor = hex4(usb.vendor);
    if (usb.product !== undefined) usb.product = hex4(usb.product);
    return { usb };
  }
  if (hostdev.mdev) {
    return {
      mdev: { uuid: hostdev.mdev.uuid.toLowerCase(), model: hostdev.mdev.model ?? "vfio-pci" },
    };
  }
  return hostdev;
}

/** How a host device is named in messages: `PCI device 0000:03:00.0`, `USB device 0x046d:0xc077`. */
export function describeHostdev(hostdev: DomainHostdev): string {
  if (hostdev.pci !== undefined) return `PCI device ${hostdev.pci}`;
  if (hostdev.usb) {
    const { vendor, product, bus, device } = hostdev.usb;
    if (vendor !== undefined || product !== undefined)
      return `USB device ${vendor ?? "any"}:${product ?? "any"}`;
    return `USB device on bus ${bus} device ${device}`;
  }
  return `mediated device ${hostdev.mdev?.uuid}`;
}
