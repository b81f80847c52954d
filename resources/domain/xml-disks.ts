/**
 * A disk's tuning in the domain XML (https://libvirt.org/formatdomain.html#hard-drives-floppy-disks-cdroms),
 * written and read back the same way so that a second preview is clean:
 *
 *   <disk>
 *     <driver name="qemu" type? cache? io? discard? detect_zeroes? iothread?/>
 *     … <source/> <target/> …
 *     <iotune> <total_bytes_sec>N</total_bytes_sec> … <write_iops_sec_max>N</write_iops_sec_max> </iotune>?
 *     <boot order="N"/>?  <shareable/>?  <serial>S</serial>?  <wwn>W</wwn>?
 *   </disk>
 *
 * libvirt leaves out a limit of 0 and every attribute not given, so unset reads back as unset.
 */
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces";
import { attr, element, text } from "../kit/xml";
import type { XmlNode } from "../kit/xml";
import type { DomainDisk, DomainDiskIoTune } from "../kit/generated/types";

/** The tuning properties of a disk, each compared strictly (unset means libvirt's default). */
export const DISK_TUNING = [
  "cache",
  "io",
  "discard",
  "detectZeroes",
  "iothread",
  "serial",
  "wwn",
  "shareable",
  "bootOrder",
] as const;

/** Our name of each `<iotune>` limit and libvirt's (also its typed-parameter name). */
export const IOTUNE_FIELDS: [keyof DomainDiskIoTune, string][] = (
  ["total", "read", "write"] as const
).flatMap((rw) =>
  (["Bytes", "Iops"] as const).flatMap((kind): [keyof DomainDiskIoTune, string][] => {
    const base = `${rw}_${kind.toLowerCase()}_sec`;
    return [
      [`${rw}${kind}Sec`, base],
      [`${rw}${kind}SecMax`, `${base}_max`],
    ];
  }),
);

/** `<driver>`'s attributes beyond name and type. */
export function driverTuning(disk: DomainDisk): Record<string, string> {
  const result: Record<string, string> = {};
  if (disk.cache !== undefined) result.cache = disk.cache;
  if (disk.io !== undefined) result.io = disk.io;
  if (disk.discard !== undefined) result.discard = disk.discard;
  if (disk.detectZeroes !== undefined) result.detect_zeroes = disk.detectZeroes;
  if (disk.iothread !== undefined) result.iothread = String(disk.iothread);
  return result;
}

/** The elements after `<target>`: iotune, boot order, shareable, serial, wwn. */
export function addDiskTuning(node: XMLBuilder, disk: DomainDisk): void {
  const limits = IOTUNE_FIELDS.filter(([ours]) => (disk.iotune?.[ours] ?? 0) > 0);
  if (limits.length > 0) {
    const iotune = node.ele("iotune");
    for (const [ours, theirs] of limits) iotune.ele(theirs).txt(String(disk.iotune![ours]));
  }
  if (disk.bootOrder !== undefined) node.ele("boot", { order: String(disk.bootOrder) });
  if (disk.shareable) node.ele("shareable");
  if (disk.serial !== undefined) node.ele("serial").txt(disk.serial);
  if (disk.wwn !== undefined) node.ele("wwn").txt(disk.wwn);
}

/** The tuning of a `<disk>` element, only what it has. */
export function readDiskTuning(disk: XmlNode): Partial<DomainDisk> {
  const driver = element(disk, "driver");
  const result: Partial<DomainDisk> = {};
  const cache = attr(driver, "cache");
  if (cache !== undefined) result.cache = cache as DomainDisk["cache"];
  const io = attr(driver, "io");
  if (io !== undefined) result.io = io as DomainDisk["io"];
  const discard = attr(driver, "discard");
  if (discard !== undefined) result.discard = discard as DomainDisk["discard"];
  const zeroes = attr(driver, "detect_zeroes");
  if (zeroes !== undefined) result.detectZeroes = zeroes as DomainDisk["detectZeroes"];
  const iothread = attr(driver, "iothread");
  if (iothread !== undefined) result.iothread = Number(iothread);
  const iotune = readIoTune(element(disk, "iotune"));
  if (iotune) result.iotune = iotune;
  const order = attr(element(disk, "boot"), "order");
  if (order !== undefined) result.bootOrder = Number(order);
  if (element(disk, "shareable") !== undefined) result.shareable = true;
  const serial = text(disk, "serial");
  if (serial !== undefined) result.serial = serial;
  const wwn = text(disk, "wwn");
  if (wwn !== undefined) result.wwn = wwn;
  return result;
}

function readIoTune(node: XmlNode | undefined): DomainDiskIoTune | undefined {
  if (!node) return undefined;
  const result: DomainDiskIoTune = {};
  for (const [ours, theirs] of IOTUNE_FIELDS) {
    const value = Number(text(node, theirs) ?? 0);
    if (value > 0) result[ours] = value;
  }
  return Object.keys(result).length > 0 ? result : undefined;
}
