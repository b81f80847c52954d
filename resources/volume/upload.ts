/**
 * Content into a volume over STORAGE_VOL_UPLOAD with sparse streams: runs of zeros travel as
 * holes and stay unallocated on the host. The bytes are hashed on the way (source.sha256 is
 * checked before the stream completes) and progress is shown on the volume's row.
 */
import { Libvirt, RemoteNonnullStorageVol, uploadVolume } from "../../rpc/internal";
import { ProgressLines, progressReporter } from "./progress";
import { ContentSource, measure } from "./source";

export interface UploadContentOptions {
  /** Where progress (status) and the summary (log) go. */
  lines: ProgressLines;
  /** Expected SHA-256 (hex). */
  sha256?: string;
  /** Most bytes the volume takes, when the content's size is not known beforehand. */
  limit?: number;
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
    onBytes: (bytes) => progress.update(bytes),
  });
  const result = await uploadVolume(lv, vol, measured.chunks, { sparse: true });
  progress.finish(result);
  return { ...result, sha256: measured.result().sha256 };
}
