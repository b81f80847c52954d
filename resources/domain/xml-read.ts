/**
 * Reading a domain's XML (https://libvirt.org/formatdomain.html) back into the shape of a Domain's
 * inputs. Only what virtwire models is read, so whatever libvirt adds on its own (PCI and drive
 * addresses, aliases, controllers, seclabels, emulator, clock, PS/2 inputs, the
 * console that mirrors the first serial port, pty paths, vnetN names) never shows up as a change.
 * Read the inactive XML (the persistent config) for drift; the live XML only for run-time facts.
 */
import { attr, element, elements, parseXml, text } from "../kit/xml";
import type { XmlNode } from "../kit/xml";
import { parseSize } from "../kit/units";
import type {
  DomainBootDevice,
  DomainCloudInitDisk,
  DomainConsole,
  DomainDisk,
  DomainDiskBus,
  DomainDiskFormat,
  DomainHostdev,
  DomainNetworkInterface,
  DomainType,
} from "../kit/generated/types";
import { CLOUD_INIT_ALIAS, GUEST_AGENT_CHANNEL } from "./normalize";
import { readDevices } from "./xml-devices";
import { readDiskTuning } from "./xml-disks";
import { readDiskSource } from "./xml-disk-source";
import { readConsole } from "./xml-console";
import { dhcpMarkedMacs, readInterface } from "./nic-xml";
import { readHostdevs } from "./xml-hostdevs";
import type { DeviceDescription } from "./xml-devices";
import { readMachineXml } from "./xml-machine-read";
import { readFirmware } from "./xml-firmware";
import type { FirmwareDescription } from "./xml-firmware";
import { readFilesystems } from "./xml-filesystems";
import type { FilesystemDescription } from "./xml-filesystems";
import type { MachineDescription } from "./xml-machine-read";

export interface DomainDescription
  extends DeviceDescription, MachineDescription, FilesystemDescription, FirmwareDescription {
  name: string;
  uuid: string;
  type: DomainType;
  memoryBytes: number;
  maxMemoryBytes: number;
  vcpu: number;
  maxVcpus: number;
  machine?: string;
  arch?: string;
  boot?: DomainBootDevice[];
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  disks: DomainDisk[];
  cloudInitDisk?: DomainCloudInitDisk;
  /** The device name of the cloud-init CD-ROM, kept when the domain is redefined. */
  cloudInitTarget?: string;
  networkInterfaces: DomainNetworkInterface[];
  hostdevs: DomainHostdev[];
  /** MACs of the interfaces whose DHCP host entry the domain keeps (nic-dhcp.ts). */
  dhcpMacs: string[];
  console?: DomainConsole;
  qemuAgent: boolean;
}

export function readDomainXml(xml: string): DomainDescription {
  const domain = parseXml(xml, "domain");
  const os = element(domain, "os");
  const devices = element(domain, "devices");
  const vcpuNode = element(domain, "vcpu");
  const maxVcpus = Number(text(vcpuNode) ?? 1);
  const maxMemoryBytes = sizeOf(element(domain, "memory")) ?? 0;
  const allDisks = elements(devices, "disk");
  const cloudInit = allDisks.find((disk) => alias(disk) === CLOUD_INIT_ALIAS);
  const boot = elements(os, "boot").map((node) => attr(node, "dev") as DomainBootDevice);
  return {
    name: text(domain, "name") ?? "",
    uuid: text(domain, "uuid") ?? "",
    type: attr(domain, "type") as DomainType,
    maxMemoryBytes,
    memoryBytes: sizeOf(element(domain, "currentMemory")) ?? maxMemoryBytes,
    maxVcpus,
    vcpu: Number(attr(vcpuNode, "current") ?? maxVcpus),
    machine: attr(element(os, "type"), "machine"),
    arch: attr(element(os, "type"), "arch"),
    ...readFirmware(os),
    boot: boot.length > 0 ? boot : undefined,
    kernel: text(os, "kernel"),
    initrd: text(os, "initrd"),
    cmdline: text(os, "cmdline"),
    disks: allDisks.filter((disk) => disk !== cloudInit).flatMap(readDisk),
    cloudInitDisk: cloudInit ? readCloudInit(cloudInit) : undefined,
    cloudInitTarget: cloudInit ? attr(element(cloudInit, "target"), "dev") : undefined,
    networkInterfaces: elements(devices, "interface").flatMap(readInterface),
    hostdevs: readHostdevs(devices),
    dhcpMacs: dhcpMarkedMacs(devices),
    ...readDevices(devices),
    ...readFilesystems(devices),
    console: readConsole(devices),
    qemuAgent: elements(devices, "channel").some(
      (channel) => attr(element(channel, "target"), "name") === GUEST_AGENT_CHANNEL,
    ),
    ...readMachineXml(domain),
  };
}

/** The TCP port of the first display, from the live XML of a running domain. */
export function readGraphicsPort(liveXml: string): number | undefined {
  const graphics = element(element(parseXml(liveXml, "domain"), "devices"), "graphics");
  const port = Number(attr(graphics, "port"));
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

function sizeOf(node: XmlNode | undefined): number | undefined {
  const value = text(node);
  if (value === undefined) return undefined;
  return parseSize(`${value}${attr(node, "unit") ?? "KiB"}`);
}

function alias(node: XmlNode): string | undefined {
  return attr(element(node, "alias"), "name");
}

export function readDisk(disk: XmlNode): DomainDisk[] {
  // libvirt's default, not ours: a <disk> without a device is a disk (domain_conf.c).
  const device = attr(disk, "device") ?? "disk";
  if (device !== "disk" && device !== "cdrom") return [];
  const target = element(disk, "target");
  const format = attr(element(disk, "driver"), "type") as DomainDiskFormat | undefined;
  const result: DomainDisk = {
    device,
    bus: attr(target, "bus") as DomainDiskBus,
    target: attr(target, "dev"),
    readOnly: element(disk, "readonly") !== undefined,
    ...readDiskTuning(disk),
  };
  Object.assign(result, readDiskSource(disk));
  if (format !== undefined) result.format = format;
  const source = element(disk, "source");
  // libvirt writes <encryption> inside <source>; older XML has it beside.
  const secret = element(element(source, "encryption") ?? element(disk, "encryption"), "secret");
  const encryptionSecret = attr(secret, "uuid") ?? attr(secret, "usage");
  if (encryptionSecret !== undefined) result.encryptionSecret = encryptionSecret;
  return [result];
}

function readCloudInit(disk: XmlNode): DomainCloudInitDisk {
  const source = element(disk, "source");
  const pool = attr(source, "pool");
  const name = attr(source, "volume");
  if (pool !== undefined && name !== undefined) return { pool, name };
  return { path: attr(source, "file") };
}
