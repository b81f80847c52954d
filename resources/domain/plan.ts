/**
 * From a Domain's inputs to a DomainPlan the XML builder can write: defaults filled in, disk
 * targets chosen (kept for disks that already exist, the next free name for new ones, never a name
 * the domain still uses), formats decided, and MAC addresses libvirt generated carried over, so a
 * redefinition changes only what the user changed.
 */
import type { DomainDisk, DomainDiskFormat, DomainInputs } from "../kit/generated/types";
import type { CheckedDomainInputs, CheckedDomainNetworkInterface } from "../kit/generated/checked";
import { randomMac } from "./nic-xml";
import { matchDisks, matchInterfaces } from "./devices";
import {
  checkedDomain,
  comparableInterface,
  diskWithDefaults,
  nextTarget,
  targetPrefix,
} from "./normalize";
import type { DomainPlan, PlannedDisk } from "./xml-build";
import type { DomainDescription } from "./xml-read";

/** What the planner needs to know about the domain as it is (absent when creating it). */
export type CurrentDevices = Pick<
  DomainDescription,
  "disks" | "networkInterfaces" | "cloudInitTarget"
>;

/** The format of a pool volume (from its XML), by `pool/name`. */
export type VolumeFormats = Map<string, DomainDiskFormat>;

export function volumeKey(volume: { pool: string; name: string }): string {
  return `${volume.pool}/${volume.name}`;
}

/** `given`: inputs as check() returns them, or anything check() would complete (checkedDomain). */
export function planDomain(
  given: DomainInputs,
  current: CurrentDevices | undefined,
  formats: VolumeFormats,
  uuid?: string,
): DomainPlan {
  const inputs = checkedDomain(given);
  const wanted = inputs.disks.map(diskWithDefaults);
  const existing = current?.disks ?? [];
  const match = matchDisks(wanted, existing);
  const carried = new Map(match.pairs.map(({ wanted: w, current: c }) => [w, c]));
  // Never reuse a name the domain has now: an unplugged disk may still be going away.
  const taken = new Set<string>([
    ...existing.flatMap((disk) => (disk.target ? [disk.target] : [])),
    ...wanted.flatMap((disk) => (disk.target ? [disk.target] : [])),
    ...(current?.cloudInitTarget ? [current.cloudInitTarget] : []),
  ]);
  const disks = wanted.map((disk): PlannedDisk => {
    const before = carried.get(disk);
    let target = disk.target ?? before?.target;
    if (target === undefined) {
      target = nextTarget(targetPrefix(disk.bus), taken);
      taken.add(target);
    }
    return { ...disk, target, format: formatOf(disk, before, formats) };
  });
  return {
    inputs,
    uuid,
    disks,
    cloudInit: planCloudInit(inputs, current?.cloudInitTarget, taken),
    interfaces: planInterfaces(inputs, current),
  };
}

function formatOf(
  disk: DomainDisk,
  before: DomainDisk | undefined,
  formats: VolumeFormats,
): DomainDiskFormat {
  if (disk.format) return disk.format;
  if (disk.volume) {
    const format = formats.get(volumeKey(disk.volume));
    if (format) return format;
  }
  // Not a schema default: a volume's own format, else the format the disk has, else raw (a file).
  return before?.format ?? "raw";
}

function planCloudInit(
  inputs: CheckedDomainInputs,
  currentTarget: string | undefined,
  taken: Set<string>,
): PlannedDisk | undefined {
  const seed = inputs.cloudInitDisk;
  if (!seed) return undefined;
  const target = currentTarget ?? nextTarget("sd", taken);
  taken.add(target);
  const source: DomainDisk =
    seed.path !== undefined
      ? { file: seed.path }
      : { volume: { pool: seed.pool!, name: seed.name! } };
  return { ...source, device: "cdrom", bus: "sata", target, readOnly: true, format: "raw" };
}

function planInterfaces(inputs: CheckedDomainInputs, current: CurrentDevices | undefined) {
  const wanted = inputs.networkInterfaces.map(comparableInterface);
  const match = matchInterfaces(wanted, current?.networkInterfaces ?? []);
  const carried = new Map(match.pairs.map(({ wanted: w, current: c }) => [w, c]));
  // An interface with a fixed address needs its MAC before libvirt makes one: its DHCP entry.
  const fresh = (nic: CheckedDomainNetworkInterface) =>
    nic.address !== undefined ? randomMac() : undefined;
  return wanted.map((nic) => ({ ...nic, mac: nic.mac ?? carried.get(nic)?.mac ?? fresh(nic) }));
}
