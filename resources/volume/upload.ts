/**
 * Content into a volume over STORAGE_VOL_UPLOAD with sparse streams (transfer/): runs of zeros
 * travel as holes and stay unallocated on the host. The bytes are hashed on the way (source.sha256
 * is checked before the stream completes) and progress is shown on the volume's row. Until the
 * upload ends, the volume carries the mark of the resource (upload-mark.ts).
 */
import type { Libvirt, RemoteNonnullStorageVol } from "../../rpc/internal";
import { measure } from "../../transfer";
import { ProgressLines, progressReporter } from "./progress";
import type { ContentSource } from "./source";
import { UploadMark, uploadMarked } from "./upload-mark";

export interface UploadContentOptions {
  /** Where progress (status) and the summary (log) go. */
  lines: ProgressLines;
  /** Expected SHA-256 (hex). */
  sha256?: string;
  /** Most bytes the volume takes, when the content's size is not known beforehand. */
  limit?: number;
  /** Whose upload it is, marked in the volume until it ends (upload-mark.ts). */
  mark: UploadMark;
  /** The volume's size in bytes. */
  capacity: number;
}

export interface UploadedContent {
  sha256: string;
  bytes: number;
  dataBytes: number;
  holeBytes: number;
}

export async function uploadContent(
  lv: Libvirt,
  vol: RemoteNonnullStorageVol,
  content: ContentSource,
  options: UploadContentOptions,
): Promise<UploadedContent> {
  const progress = progressReporter(options.lines, content.label, content.size);
  const measured = measure(content.chunks, {
    label: content.label,
    expectedSize: content.size,
    limit: options.limit,
    sha256: options.sha256,
  });
  const { mark, capacity } = options;
  const onBytes = (bytes: number) => progress.update(bytes);
  const result = await uploadMarked(lv, vol, measured.chunks, mark, capacity, onBytes);
  progress.finish(result);
  return { ...result, sha256: measured.result().sha256 };
}
