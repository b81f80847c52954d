/**
 * A host device's XML (NODE_DEVICE_GET_XML_DESC; https://libvirt.org/formatnode.html) read into
 * typed fields:
 *
 *   <device>
 *     <name>pci_0000_00_04_0</name>
 *     <path>/sys/devices/pci0000:00/0000:00:04.0</path>     sysfs path
 *     <devnode type='dev'>/dev/vda</devnode>                 also type='link' entries
 *     <parent>computer</parent>
 *     <driver><name>virtio-pci</name></driver>
 *     <capability type='pci'>                                the main capability; one per device
 *       <class>0xffff00</class>
 *       <domain>0</domain> <bus>0</bus> <slot>4</slot> <function>0</function>   decimal
 *       <product id='0x1053'>name</product> <vendor id='0x1af4'>name</vendor>   names optional
 *       <iommuGroup number='5'>…</iommuGroup>
 *       <capability type='virt_functions' …/>               nested capabilities
 *     </capability>
 *   </device>
 *
 * usb_device has `<bus>`, `<device>`, `<product id>`, `<vendor id>`; net has `<interface>`,
 * `<address>`, `<link state speed>` and nested `<capability type='80203'/>` (the link type, not a
 * device capability); storage has `<block>`, `<drive_type>`, `<model>`, `<vendor>`, `<serial>`,
 * `<size>` (bytes).
 */
import type {
  NodeDevice,
  NodeDeviceNet,
  NodeDevicePci,
  NodeDeviceStorage,
  NodeDeviceUsb,
} from "../kit/generated/types";
import { XmlNode, attr, element, elements, parseXml, text } from "../kit/xml";

export function readNodeDevice(xml: string): NodeDevice {
  const device = parseXml(xml, "device");
  const capability = element(device, "capability");
  const type = attr(capability, "type") ?? "";
  const devnode = elements(device, "devnode").find((node) => attr(node, "type") === "dev");
  const parsed: NodeDevice = {
    name: text(device, "name") ?? "",
    parent: text(device, "parent"),
    path: text(device, "path"),
    driver: text(element(device, "driver"), "name"),
    devnode: text(devnode),
    capability: type,
    // A net device's nested capability is its link type (80203 is Ethernet), not a capability.
    capabilities: [type, ...(type === "net" ? [] : nestedTypes(capability))].filter(Boolean),
    xml,
  };
  if (type === "pci") parsed.pci = pci(capability);
  if (type === "usb_device") parsed.usb = usb(capability);
  if (type === "net") parsed.net = net(capability);
  if (type === "storage") parsed.storage = storage(capability);
  return withoutUndefined(parsed);
}

/** The types of every `<capability>` below this one, depth first. */
function nestedTypes(capability: XmlNode | undefined): string[] {
  return elements(capability, "capability").flatMap((inner) => [
    ...(attr(inner, "type") ? [attr(inner, "type")!] : []),
    ...nestedTypes(inner),
  ]);
}

function pci(capability: XmlNode | undefined): NodeDevicePci {
  const number = (name: string) => Number(text(capability, name) ?? 0);
  const [domain, bus, slot, fn] = [
    number("domain"),
    number("bus"),
    number("slot"),
    number("function"),
  ];
  const hex = (value: number, width: number) => value.toString(16).padStart(width, "0");
  const group = attr(element(capability, "iommuGroup"), "number");
  return {
    address: `${hex(domain, 4)}:${hex(bus, 2)}:${hex(slot, 2)}.${hex(fn, 1)}`,
    domain,
    bus,
    slot,
    function: fn,
    ...identity(capability),
    class: text(capability, "class"),
    iommuGroup: group === undefined ? undefined : Number(group),
  };
}

function usb(capability: XmlNode | undefined): NodeDeviceUsb {
  return {
    bus: Number(text(capability, "bus") ?? 0),
    device: Number(text(capability, "device") ?? 0),
    ...identity(capability),
  };
}

/** `<vendor id='0x1af4'>Red Hat, Inc.</vendor>` and `<product …>`: ids, and names when given. */
function identity(capability: XmlNode | undefined) {
  const vendor = element(capability, "vendor");
  const product = element(capability, "product");
  return {
    vendorId: attr(vendor, "id"),
    vendorName: nonEmpty(text(vendor)),
    productId: attr(product, "id"),
    productName: nonEmpty(text(product)),
  };
}

function net(capability: XmlNode | undefined): NodeDeviceNet {
  const link = element(capability, "link");
  const speed = attr(link, "speed");
  return {
    interface: text(capability, "interface") ?? "",
    address: text(capability, "address"),
    linkState: attr(link, "state"),
    linkSpeed: speed === undefined ? undefined : Number(speed),
  };
}

function storage(capability: XmlNode | undefined): NodeDeviceStorage {
  const size = text(capability, "size");
  return {
    block: text(capability, "block"),
    driveType: text(capability, "drive_type"),
    model: nonEmpty(text(capability, "model")),
    vendor: nonEmpty(text(capability, "vendor")),
    serial: nonEmpty(text(capability, "serial")),
    size: size === undefined ? undefined : Number(size),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** The object without keys whose value is undefined, at every depth (results are compared whole). */
function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutUndefined) as T;
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .map(([key, item]) => [key, withoutUndefined(item)]),
  ) as T;
}
