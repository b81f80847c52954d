/**
 * Domain XML (https://libvirt.org/formatdomain.html) from a planned Domain: inputs with every disk
 * target, disk format and known MAC address decided (plan.ts). Pure; snapshot-tested.
 *
 *   <domain type="kvm|qemu">
 *     <name/> <uuid/>?  <metadata><virtwire:resource urn/></metadata>?  <memory unit="KiB"/> <currentMemory unit="KiB"/>  <vcpu current?/>
 *     <os firmware="efi"?> <type arch? machine?>hvm</type> firmware (xml-firmware.ts) <kernel/> <initrd/>
 *         <cmdline/> <boot dev/>* </os>
 *     <features/> <cpu/>? and the other machine-level elements (xml-machine.ts)
 *     <devices> disk* (cloud-init CD-ROM) interface* (nic-xml.ts) hostdev* (xml-hostdevs.ts) serial
 *       channel? graphics? and the small devices of xml-devices.ts, the shared folders and TPM of
 *       xml-filesystems.ts </devices>
 *   </domain>
 *
 * xmlPatches are appended last (patches.ts), then xmlEdits change what they select (xml-edits.ts).
 */
import { create } from "../kit/xmlbuilder";
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces";
import type { DomainDisk, DomainNetworkInterface } from "../kit/generated/types";
import type { CheckedDomainDisk, CheckedDomainInputs } from "../kit/generated/checked";
import {
  CLOUD_INIT_ALIAS,
  GUEST_AGENT_CHANNEL,
  effectiveMaxMemory,
  effectiveMaxVcpus,
} from "./normalize";
import { parseSize } from "../kit/units";
import type { Owner } from "../kit/owner";
import { addMark } from "../kit/xml-mark";
import { applyPatches } from "./patches";
import { type EditOutcome, applyEdits } from "./xml-edits";
import { buildDevices } from "./xml-devices";
import { addDiskTuning, driverTuning } from "./xml-disks";
import { addBackingChain, addDiskSource, diskType } from "./xml-disk-source";
import type { BackingChain } from "./xml-disk-source";
import { buildConsole } from "./xml-console";
import { addInterface } from "./nic-xml";
import { addHostdevs } from "./xml-hostdevs";
import { addMachine, addMachineHead, addSmbiosMode } from "./xml-machine";
import { addFirmware } from "./xml-firmware";
import { buildFilesystems } from "./xml-filesystems";

/** A disk as planned: device, bus, target, readOnly and format decided. */
export type PlannedDisk = CheckedDomainDisk &
  Required<Pick<DomainDisk, "bus" | "target" | "readOnly" | "format">> & {
    /** The images below the source, for a disk kept on an external snapshot's overlay. */
    backingChain?: BackingChain;
  };

/** What writing a disk needs: its device; a planned disk has everything else decided too. */
type DiskToWrite = DomainDisk &
  Pick<CheckedDomainDisk, "device"> &
  Pick<PlannedDisk, "backingChain">;

export interface DomainPlan {
  inputs: CheckedDomainInputs;
  /** Set when redefining an existing domain, so libvirt updates it instead of refusing the name. */
  uuid?: string;
  disks: PlannedDisk[];
  /** The cloud-init seed as a SATA CD-ROM, target decided. */
  cloudInit?: PlannedDisk;
  /** Interfaces with their MAC when known (kept across redefinitions), model decided. */
  interfaces: DomainNetworkInterface[];
  /** The resource, whose mark is written into `<metadata>` (resources/kit/owner.ts). */
  owner?: Owner;
}

export function buildDomainXml(plan: DomainPlan): string {
  return buildEditedDomainXml(plan).xml;
}

/** The XML and what each of xmlEdits did to it (throws EditError for an edit that cannot apply). */
export function buildEditedDomainXml(plan: DomainPlan): { xml: string; edits: EditOutcome[] } {
  const inputs = plan.inputs;
  const domain = create().ele("domain", { type: inputs.type });
  domain.ele("name").txt(inputs.name);
  if (plan.uuid) domain.ele("uuid").txt(plan.uuid);
  if (plan.owner) addMark(domain, plan.owner);
  addMachineHead(domain, inputs);
  domain.ele("memory", { unit: "KiB" }).txt(kib(effectiveMaxMemory(inputs)));
  domain.ele("currentMemory", { unit: "KiB" }).txt(kib(parseSize(inputs.memory)));
  const vcpu = inputs.vcpu;
  const maxVcpus = effectiveMaxVcpus(inputs);
  domain
    .ele("vcpu", maxVcpus > vcpu ? { placement: "static", current: String(vcpu) } : {})
    .txt(String(maxVcpus));
  buildOs(domain, inputs);
  addMachine(domain, inputs, !inputs.arch || /^(x86_64|i686)$/.test(inputs.arch));
  const devices = domain.ele("devices");
  for (const disk of plan.disks) addDisk(devices, disk);
  if (plan.cloudInit) addDisk(devices, plan.cloudInit, CLOUD_INIT_ALIAS);
  for (const nic of plan.interfaces) addInterface(devices, nic);
  addHostdevs(devices, inputs.hostdevs);
  buildConsoleAndChannels(devices, inputs);
  buildDevices(devices, inputs);
  buildFilesystems(devices, inputs);
  applyPatches(domain, inputs.xmlPatches ?? []);
  const edits = applyEdits(domain, inputs.xmlEdits ?? []);
  return { xml: domain.end({ headless: true, prettyPrint: true }), edits };
}

/** One disk as a device document, for attach, detach and media changes. */
export function diskXml(disk: DiskToWrite): string {
  const root = create();
  addDisk(root, disk);
  return root.end({ headless: true, prettyPrint: true });
}

/** One interface as a device document, for attach and detach (libvirt matches it by MAC). */
export function interfaceXml(nic: DomainNetworkInterface): string {
  const root = create();
  addInterface(root, nic);
  return root.end({ headless: true, prettyPrint: true });
}

function kib(count: number | undefined): string {
  if (count === undefined) throw new Error("memory is not a size; check() should have said so");
  return String(Math.floor(count / 1024));
}

function buildOs(domain: XMLBuilder, inputs: CheckedDomainInputs): void {
  const os = domain.ele("os");
  const type = os.ele("type");
  if (inputs.arch) type.att("arch", inputs.arch);
  if (inputs.machine) type.att("machine", inputs.machine);
  type.txt("hvm");
  addFirmware(os, inputs);
  if (inputs.kernel) os.ele("kernel").txt(inputs.kernel);
  if (inputs.initrd) os.ele("initrd").txt(inputs.initrd);
  if (inputs.cmdline) os.ele("cmdline").txt(inputs.cmdline);
  for (const dev of inputs.boot ?? []) os.ele("boot", { dev });
  addSmbiosMode(os, inputs);
}

function addDisk(parent: XMLBuilder, disk: DiskToWrite, alias?: string): void {
  const node = parent.ele("disk", { type: diskType(disk), device: disk.device });
  // Planned disks have a format; libvirt takes a disk without one as raw.
  const driver = disk.format ? { name: "qemu", type: disk.format } : { name: "qemu" };
  node.ele("driver", { ...driver, ...driverTuning(disk) });
  addDiskSource(node, disk);
  if (disk.backingChain) addBackingChain(node, disk.backingChain);
  node.ele("target", { dev: disk.target, bus: disk.bus });
  addDiskTuning(node, disk);
  if (disk.readOnly || disk.device === "cdrom") node.ele("readonly");
  if (alias) node.ele("alias", { name: alias });
}

function buildConsoleAndChannels(devices: XMLBuilder, inputs: CheckedDomainInputs): void {
  buildConsole(devices, inputs.console);
  if (inputs.qemuAgent) {
    devices
      .ele("channel", { type: "unix" })
      .ele("target", { type: "virtio", name: GUEST_AGENT_CHANNEL });
  }
}
