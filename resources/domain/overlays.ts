/**
 * External snapshots and redefinitions. An external DomainSnapshot moves a disk onto an overlay
 * file, and the Domain reads that disk as the image below it (describe.ts), so the snapshot is no
 * change of `disks`. A redefinition built from the inputs alone would put the disk back on that
 * image: the guest would write under the snapshot, and the chain would be broken. So a disk whose
 * configured source stays keeps its top image (the newest overlay) and the chain below it as the
 * definition has it: libvirt deletes a snapshot only when the image below its overlay is the very
 * source (a volume stays a volume) the snapshot replaced, so a chain probed from the overlay's
 * header instead (a volume seen as a plain file) could not be merged back. A disk that gets a
 * new source or is removed is refused while external snapshots sit on it: at preview (diff asks
 * libvirt when a disk's source changes) and again at up, before anything is touched.
 */
import type { DomainDisk } from "../kit/generated/types";
import { matchDisks, sameSource } from "./devices";
import type { PlannedDisk } from "./xml-build";
import type { BackingChain } from "./xml-disk-source";

/** A disk on an overlay: as libvirt has it (`top`), as the user configured it, and by whom. */
export interface OverlaidDisk {
  top: DomainDisk;
  /** The images below the top one, as the definition has them (the base at the bottom). */
  chain: BackingChain;
  configured: DomainDisk;
  /** The external snapshots (names) whose overlays sit on the disk, newest first. */
  snapshots: string[];
}

/** Refuses what would take an overlaid disk off its overlay; `wanted` have their targets. */
export function refuseOverlaidChanges(
  domain: string,
  wanted: DomainDisk[],
  overlaid: OverlaidDisk[],
): void {
  for (const { top, configured, snapshots } of overlaid) {
    const disk = wanted.find((w) => w.target === top.target);
    if (disk && sameSource(disk, configured)) continue;
    const what = disk ? "a new source for it" : "its removal";
    const names = snapshots.join(", ");
    const one = snapshots.length === 1;
    throw new Error(
      `domain ${domain}: disk ${top.target} writes to the overlay of external snapshot${one ? "" : "s"} ${names}, and ${what} would take it off that overlay and break the snapshot chain; nothing was changed: delete the DomainSnapshot${one ? "" : "s"} ${names} first (a delete merges the overlay back into the disk's image), or keep the disk as it is`,
    );
  }
}

/** The same refusal at preview, judged from the last outputs' disks (before a plan exists). */
export function refuseOverlaidInputs(
  domain: string,
  wanted: DomainDisk[],
  current: DomainDisk[],
  overlaid: OverlaidDisk[],
): void {
  const { pairs } = matchDisks(wanted, current);
  const targeted = pairs.map((pair) => ({ ...pair.wanted, target: pair.current.target }));
  refuseOverlaidChanges(domain, targeted, overlaid);
}

/** Whether any current disk gets a new source or is removed: only then is libvirt asked. */
export function changesDiskSources(wanted: DomainDisk[], current: DomainDisk[]): boolean {
  const match = matchDisks(wanted, current);
  return match.removed.length > 0 || match.pairs.some((p) => !sameSource(p.wanted, p.current));
}

/** The planned disks, each overlaid one on its top image (after refuseOverlaidChanges). */
export function keepOverlays(disks: PlannedDisk[], overlaid: OverlaidDisk[]): PlannedDisk[] {
  return disks.map((disk) => {
    const kept = overlaid.find((o) => o.top.target === disk.target);
    if (!kept || kept.top.file === undefined) return disk;
    const format = kept.top.format ?? disk.format;
    const onTop = { ...disk, file: kept.top.file, format, backingChain: kept.chain };
    delete onTop.volume;
    delete onTop.block;
    delete onTop.network;
    return onTop;
  });
}
