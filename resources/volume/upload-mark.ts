/**
 * How virtwire knows its own half-written upload under a name the user chose. libvirt keeps
 * nothing of ours with a volume (no metadata, and a name we did not choose), so the mark is in
 * the volume's content, where only an unfinished upload of ours can have it:
 *
 *   1. the volume's first 512 bytes get the mark of the resource: "virtwire: upload in progress",
 *      the SHA-256 of the resource's mark (its URN, and its organization: resources/kit/owner.ts),
 *      zeros;
 *   2. the content goes in from byte 512 on, its first 512 bytes held back;
 *   3. the held-back bytes go in last, over the mark (as data: a hole would leave it there).
 *
 * An upload cut short anywhere (the CLI killed, the daemon gone) leaves the mark, and the next
 * fresh create of the same resource finds it and deletes the volume. A finished volume never has
 * it, and a volume of the user's could only have it by being a copy of our unfinished one: a
 * volume without it is never touched. Left unmarked: volumes under 512 bytes, and a volume whose
 * upload finished when the create was cut short after it (the error then says how to remove it).
 */
import { Writable } from "node:stream";
import { createHash } from "node:crypto";
import type { Libvirt, RemoteNonnullStorageVol } from "../../rpc/internal";
import { downloadVolume, uploadVolume } from "../../transfer";
import type { TransferResult } from "../../transfer";

export const MARK_BYTES = 512;

/** The first 512 bytes of a volume virtwire is uploading for the resource marked `owner`. */
export function uploadMark(owner: string): Buffer {
  const digest = createHash("sha256").update(owner).digest("hex");
  const mark = Buffer.alloc(MARK_BYTES);
  mark.write(`virtwire: upload in progress\nresource sha256 ${digest}\n`, "utf8");
  return mark;
}

/** Whose upload a volume gets, and whether its mark is in the volume now. */
export interface UploadMark {
  /** The resource's mark (Owner.mark); undefined: no mark (the inputs carry no URN). */
  owner: string | undefined;
  /** True from the mark's write until the content's first bytes replace it. */
  present: boolean;
}

/**
 * Uploads `chunks` into `vol` (sparse) with the upload mark over its first bytes until the end;
 * without a URN, or into a volume of `capacity` under 512 bytes, as a plain upload. `onBytes`
 * hears of the content's bytes as they reach the daemon.
 */
export async function uploadMarked(
  lv: Libvirt,
  vol: RemoteNonnullStorageVol,
  chunks: AsyncIterable<Buffer>,
  mark: UploadMark,
  capacity: number,
  onBytes?: (bytes: number) => void,
): Promise<TransferResult> {
  if (mark.owner === undefined || capacity < MARK_BYTES) {
    return uploadVolume(lv, vol, chunks, { sparse: true, onProgress: (p) => onBytes?.(p.bytes) });
  }
  mark.present = true;
  await uploadVolume(lv, vol, once(uploadMark(mark.owner)), { length: MARK_BYTES });
  const head = Buffer.alloc(MARK_BYTES);
  const held = { bytes: 0 };
  const rest = await uploadVolume(lv, vol, holdBack(chunks, head, held), {
    offset: MARK_BYTES,
    sparse: true,
    onProgress: (p) => onBytes?.(held.bytes + p.bytes),
  });
  // Zeros past a short content stay zeros, as a plain upload leaves them.
  await uploadVolume(lv, vol, once(head), { length: MARK_BYTES });
  mark.present = false;
  return {
    bytes: held.bytes + rest.bytes,
    dataBytes: held.bytes + rest.dataBytes,
    holeBytes: rest.holeBytes,
  };
}

/** Whether `vol` starts with the upload mark of `owner`: an unfinished upload of that resource. */
export async function hasUploadMark(
  lv: Libvirt,
  vol: RemoteNonnullStorageVol,
  owner: string,
): Promise<boolean> {
  const { capacity } = await lv.StorageVolGetInfo({ vol });
  if (capacity < BigInt(MARK_BYTES)) return false;
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      parts.push(Buffer.from(chunk));
      done();
    },
  });
  await downloadVolume(lv, vol, sink, { length: MARK_BYTES });
  return Buffer.concat(parts).equals(uploadMark(owner));
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

/** `chunks` without their first 512 bytes, which are copied into `head` (`held.bytes` of them). */
async function* holdBack(
  chunks: AsyncIterable<Buffer>,
  head: Buffer,
  held: { bytes: number },
): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    const take = Math.min(MARK_BYTES - held.bytes, chunk.length);
    // A source may reuse its chunk buffer: the held-back bytes are copied.
    chunk.copy(head, held.bytes, 0, take);
    held.bytes += take;
    if (take < chunk.length) yield chunk.subarray(take);
  }
}
