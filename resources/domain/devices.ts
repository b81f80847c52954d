/**
 * Which wanted disk or interface is which existing one. The answer decides what is hot-plugged
 * (added), unplugged (removed) and what is a change to an existing device, and it carries libvirt's
 * choices (disk targets, generated MAC addresses) over to the devices that stay.
 *
 * Disks: by `target` when the user gave one; otherwise by source (volume or file), so reordering
 * disks is no change; then what is left pairs up in order, CD-ROMs with CD-ROMs (a new medium is a
 * media change) and disks with disks (a new source in the same place is a change of that disk, the
 * boot disk above all, and keeps its target, instead of an unplug of the old disk and a plug of a
 * new one).
 * Interfaces: by `mac` when the user gave one; then by the same network, bridge or host interface
 * (direct), in order; then
 * by position (a changed network keeps the interface and its MAC).
 */
import type { DomainDisk, DomainNetworkInterface } from "../kit/generated/types";
import { deepEqual } from "../kit/diff";
import { isUnknown } from "./normalize";
import { attachmentOf } from "./nic-xml";

/** `W`: the wanted devices' type, which may know more than the current ones' (`C`). */
export interface DeviceMatch<W, C = W> {
  /** Wanted devices that correspond to an existing one. */
  pairs: { wanted: W; current: C }[];
  added: W[];
  removed: C[];
}

type Rule<W, C> = (wanted: W, current: C) => boolean;

/** Pairs devices rule by rule; each rule only sees what earlier rules left unpaired. */
function pairUp<W, C>(wanted: W[], current: C[], rules: Rule<W, C>[]): DeviceMatch<W, C> {
  const partner = new Map<number, number>();
  const taken = new Set<number>();
  for (const rule of rules) {
    wanted.forEach((item, w) => {
      if (partner.has(w)) return;
      const c = current.findIndex((candidate, index) => !taken.has(index) && rule(item, candidate));
      if (c < 0) return;
      partner.set(w, c);
      taken.add(c);
    });
  }
  return {
    pairs: [...partner].map(([w, c]) => ({ wanted: wanted[w]!, current: current[c]! })),
    added: wanted.filter((_, w) => !partner.has(w)),
    removed: current.filter((_, c) => !taken.has(c)),
  };
}

/** Same volume, network disk, block device or file; never while a source is not known yet. */
export function sameSource(a: DomainDisk, b: DomainDisk): boolean {
  if (a.volume) return !!b.volume && known(a.volume) && deepEqual(a.volume, b.volume);
  if (a.network) return !!b.network && !hasUnknown(a.network) && deepEqual(a.network, b.network);
  if (a.block !== undefined) return !isUnknown(a.block) && a.block === b.block;
  if (a.file !== undefined) return !isUnknown(a.file) && a.file === b.file;
  return !b.volume && !b.network && b.block === undefined && b.file === undefined;
}

/** Some value anywhere inside is not known yet. */
export function hasUnknown(value: unknown): boolean {
  if (isUnknown(value)) return true;
  if (typeof value !== "object" || value === null) return false;
  return Object.values(value).some(hasUnknown);
}

function known(value: object): boolean {
  return Object.values(value).every((item) => !isUnknown(item));
}

export function matchDisks<W extends DomainDisk>(
  wanted: W[],
  current: DomainDisk[],
): DeviceMatch<W, DomainDisk> {
  return pairUp<W, DomainDisk>(wanted, current, [
    (w, c) => w.target !== undefined && w.target === c.target,
    (w, c) =>
      w.target === undefined && w.device !== "cdrom" && c.device !== "cdrom" && sameSource(w, c),
    (w, c) => w.target === undefined && w.device === "cdrom" && c.device === "cdrom",
    (w, c) => w.target === undefined && w.device !== "cdrom" && c.device !== "cdrom",
  ]);
}

export function matchInterfaces<W extends DomainNetworkInterface>(
  wanted: W[],
  current: DomainNetworkInterface[],
): DeviceMatch<W, DomainNetworkInterface> {
  const sameAttachment = (w: DomainNetworkInterface, c: DomainNetworkInterface) =>
    attachmentOf(w) === attachmentOf(c);
  return pairUp<W, DomainNetworkInterface>(wanted, current, [
    (w, c) => w.mac !== undefined && w.mac.toLowerCase() === c.mac?.toLowerCase(),
    (w, c) => w.mac === undefined && sameAttachment(w, c),
    (w) => w.mac === undefined,
  ]);
}
