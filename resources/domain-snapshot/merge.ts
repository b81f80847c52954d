/**
 * Deleting an external snapshot. libvirt 9.0 and later merge the overlays back themselves (a
 * block commit while the domain runs, `qemu-img commit` while it is off) and remove the overlay
 * and memory files (both shown by test/integration/domain-snapshot.test.ts on 9.0 and 11.3).
 * Earlier daemons refuse with CONFIG_UNSUPPORTED; for them, while the domain runs, virtwire does
 * what virsh users do by hand: per disk, a block commit of the active layer (the overlay) into the image below, a pivot
 * to that image once the job is ready, and only then the snapshot's metadata is deleted and the
 * overlay files removed. Nothing starts unless every overlay of the snapshot is still the top
 * image of its disk (a later external snapshot sits on top otherwise) or already merged (a disk
 * back on the image below its overlay: a retry after a partial merge), and a job that fails
 * before or at the pivot is cancelled, leaving the overlay in use: no data is lost.
 */
import {
  DomainBlockCommitFlags,
  DomainBlockJobAbortFlags,
  DomainSnapshotDeleteFlags,
  ErrorCode,
  hasErrorCode,
} from "../../rpc";
import type { Libvirt, RemoteNonnullDomain, RemoteNonnullDomainSnapshot } from "../../rpc";
import type { ResourceContext } from "../kit/resource";
import { sleep } from "../kit/sleep";
import { SnapshotFacts, readDomainDisks, sameImage } from "./xml";

/** How long one disk's commit may take to become ready before it is cancelled. */
const COMMIT_TIMEOUT_MS = 10 * 60_000;
const POLL_MS = 200;

/** Codes with which a daemon before 9.0 refuses to delete an external snapshot. */
const NOT_SUPPORTED = [
  ErrorCode.CONFIG_UNSUPPORTED,
  ErrorCode.OPERATION_UNSUPPORTED,
  ErrorCode.NO_SUPPORT,
  ErrorCode.ARGUMENT_UNSUPPORTED,
];

export function refusedAsUnsupported(error: unknown): boolean {
  return NOT_SUPPORTED.some((code) => hasErrorCode(error, code));
}

/** Thrown when a snapshot cannot be merged; the snapshot and the domain are left as they were. */
export class CannotMergeError extends Error {
  override name = "CannotMergeError";
}

/** Merges every overlay of `facts` back and deletes the snapshot's metadata (running domain). */
export async function mergeAndForget(
  lv: Libvirt,
  dom: RemoteNonnullDomain,
  snap: RemoteNonnullDomainSnapshot,
  facts: SnapshotFacts,
  ctx: ResourceContext,
  /** The daemon's refusal to delete the snapshot itself. */
  refusal?: unknown,
): Promise<void> {
  const what = `snapshot ${facts.name} of domain ${dom.name}`;
  const { active } = await lv.DomainIsActive({ dom });
  if (!active) {
    // Only a daemon before 9.0 refuses with CONFIG_UNSUPPORTED ("not supported yet"); a later
    // one refuses for reasons of its own, which are kept.
    const why = hasErrorCode(refusal, ErrorCode.CONFIG_UNSUPPORTED)
      ? "this libvirt (before 9.0) merges overlays back only while the domain runs, and it is shut off; start the domain (running: true) and run the delete again"
      : `libvirt refused (${refusal instanceof Error ? refusal.message : String(refusal)}), and virtwire merges overlays back itself only while the domain runs, and it is shut off`;
    throw new CannotMergeError(`cannot delete external ${what}: ${why}. Nothing was changed.`);
  }
  const { xml } = await lv.DomainGetXMLDesc({ dom, flags: 0 });
  const disks = new Map(readDomainDisks(xml).map((disk) => [disk.target, disk]));
  const pending = facts.overlays.filter((overlay) => {
    const top = disks.get(overlay.target);
    // A disk back on the image below its overlay was merged by an earlier, partial delete.
    return !(top && overlay.below && sameImage(top, overlay.below));
  });
  for (const overlay of pending) {
    const top = disks.get(overlay.target)?.path;
    if (top !== overlay.path) {
      throw new CannotMergeError(
        `cannot delete external ${what}: disk ${overlay.target} writes to ${top ?? "nothing"}, not to the snapshot's overlay ${overlay.path} (a later external snapshot sits on top of it: delete that one first). Nothing was changed.`,
      );
    }
  }
  for (const overlay of pending) await commitActiveLayer(lv, dom, overlay.target, ctx);
  await lv.DomainSnapshotDelete({ snap, flags: DomainSnapshotDeleteFlags.METADATA_ONLY });
}

/** Pivots disk `target` to the image below; false when libvirt says the job is not ready yet. */
async function pivoted(lv: Libvirt, dom: RemoteNonnullDomain, target: string): Promise<boolean> {
  try {
    await lv.DomainBlockJobAbort({ dom, path: target, flags: DomainBlockJobAbortFlags.PIVOT });
    return true;
  } catch (error) {
    if (hasErrorCode(error, ErrorCode.BLOCK_COPY_ACTIVE)) return false;
    throw error;
  }
}

/** Commits disk `target`'s top image into the one below and pivots to that one. */
async function commitActiveLayer(
  lv: Libvirt,
  dom: RemoteNonnullDomain,
  target: string,
  ctx: ResourceContext,
): Promise<void> {
  // SHALLOW: without a base, libvirt commits into the bottom of the whole chain. A disk that is
  // itself an overlay of a shared base image (one per VM over a common base) would have the
  // snapshot and everything the VM wrote since its creation written into that base.
  await lv.DomainBlockCommit({
    dom,
    disk: target,
    base: null,
    top: null,
    bandwidth: 0n,
    flags: DomainBlockCommitFlags.ACTIVE | DomainBlockCommitFlags.SHALLOW,
  });
  const deadline = Date.now() + COMMIT_TIMEOUT_MS;
  try {
    for (;;) {
      const job = await lv.DomainGetBlockJobInfo({ dom, path: target, flags: 0 });
      // cur == end says the data is copied; libvirt may still refuse the pivot for a moment
      // (BLOCK_COPY_ACTIVE, "not ready for pivot yet": 11.3 marks the job ready a little later),
      // so the pivot is asked again until the deadline.
      if (job.found && job.end > 0n && job.cur === job.end && (await pivoted(lv, dom, target))) {
        break;
      }
      if (!job.found) throw new CannotMergeError(`the commit of disk ${target} ended unready`);
      if (Date.now() > deadline) {
        throw new CannotMergeError(`the commit of disk ${target} was not ready in time`);
      }
      ctx.status(`merging the overlay of disk ${target}: ${job.cur} of ${job.end} bytes`);
      await sleep(POLL_MS);
    }
  } catch (error) {
    // Cancelled before the pivot (or the pivot refused), the domain keeps writing to the
    // overlay: nothing is lost, and no commit job is left running.
    await lv.DomainBlockJobAbort({ dom, path: target, flags: 0 }).catch(() => undefined);
    throw error;
  }
  ctx.log(`virtwire: merged the overlay of disk ${target} of domain ${dom.name} back`);
}
