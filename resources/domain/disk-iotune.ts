/**
 * How a change to an existing disk's settings is applied. Its I/O limits (`iotune`) change live:
 * DomainSetBlockIoTune on the running domain and its config at once, every limit sent (0 for
 * unset, which is how libvirt removes one), so the result is exactly the wanted set. Any other
 * setting of a disk the guest may be using restarts the domain (diff.ts).
 *
 * The tuning properties (xml-disks.ts) are compared strictly, unset meaning libvirt's default
 * (libvirt adds none of them on its own), so removing one from the program is a change too;
 * `shareable: false` is no `<shareable/>`, and a limit of 0 no limit.
 */
import { TypedParamType } from "../../rpc";
import type { Libvirt, RemoteNonnullDomain } from "../../rpc";
import { deepEqual } from "../kit/diff";
import type { DomainDisk, DomainDiskIoTune } from "../kit/generated/types";
import { isUnknown } from "./normalize";
import { DISK_TUNING, IOTUNE_FIELDS } from "./xml-disks";

/** The limits that are set (above 0), or undefined for none. */
function comparableIoTune(iotune: DomainDiskIoTune | undefined): DomainDiskIoTune | undefined {
  if (iotune === undefined || isUnknown(iotune)) return iotune;
  const result: DomainDiskIoTune = {};
  for (const [ours] of IOTUNE_FIELDS) {
    const value = iotune[ours];
    if (value !== undefined && (isUnknown(value) || value > 0)) result[ours] = value;
  }
  return Object.keys(result).length > 0 ? result : undefined;
}

/** Same I/O limits; never while some limit is not known yet (preview). */
export function sameIoTune(wanted: DomainDisk, have: DomainDisk): boolean {
  const limits = comparableIoTune(wanted.iotune);
  if (isUnknown(limits) || Object.values(limits ?? {}).some(isUnknown)) return false;
  return deepEqual(limits, comparableIoTune(have.iotune));
}

/** Same cache, io, discard, detectZeroes, serial, wwn, shareable and boot order. */
export function sameTuning(wanted: DomainDisk, have: DomainDisk): boolean {
  return DISK_TUNING.every((key) => {
    const want = key === "shareable" ? wanted[key] || undefined : wanted[key];
    const got = key === "shareable" ? have[key] || undefined : have[key];
    return !isUnknown(want) && want === got;
  });
}

/** The disk without its tuning, for the comparisons of the properties it had before. */
export function withoutTuning(disk: DomainDisk): DomainDisk {
  const rest: DomainDisk = { ...disk, iotune: undefined };
  for (const key of DISK_TUNING) delete rest[key];
  return rest;
}

/** Every limit of `wanted` on the disk `target`, live and in the config as `flags` say. */
export async function applyIoTune(
  lv: Libvirt,
  dom: RemoteNonnullDomain,
  target: string,
  iotune: DomainDiskIoTune | undefined,
  flags: number,
): Promise<void> {
  const params = IOTUNE_FIELDS.map(([ours, theirs]) => ({
    field: theirs,
    value: { type: TypedParamType.ULLONG, value: BigInt(iotune?.[ours] ?? 0) } as const,
  }));
  await lv.DomainSetBlockIoTune({ dom, disk: target, params, flags });
}
