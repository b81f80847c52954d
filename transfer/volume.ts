/**
 * Volume upload and download from and to this machine, like `virsh vol-upload` / `vol-download`:
 *
 *   await uploadVolume(lv, vol, "/images/disk.raw", { sparse: true, onProgress });
 *   await downloadVolume(lv, vol, "/backup/disk.raw", { sparse: true });
 *
 * The pipeline, one step per file: the source is opened (source.ts: a path read with
 * file-reader.ts, an open file, a byte stream), its holes found by content (hole-scanner.ts), the
 * extents counted (progress.ts) and handed to rpc's `stream.sendAll`; a download's extents come
 * from `stream.receiveAll` and go to a sink (sink.ts). rpc opens the volume's stream
 * (rpc/volume-stream.ts) and speaks the protocol; the bytes on this side are transfer/'s.
 *
 * Memory stays bounded whatever the size: an upload reads its source only as fast as the socket
 * takes the packets; a download writes to its destination with the destination's backpressure, and
 * while the destination is behind, the stream stops reading the socket, so the daemon waits. With
 * `sparse`, holes travel as their length: an upload finds them by content, a download to a path
 * seeks over them and leaves them unallocated.
 */
import {
  RemoteNonnullStorageVol,
  StreamChunk,
  StreamHost,
  VolumeRange,
  downloadSize,
  openVolumeDownload,
  openVolumeUpload,
} from "../rpc/internal";
import { Progress, TransferProgress, TransferResult } from "./progress";
import { DownloadDestination, openSink } from "./sink";
import { UploadSource, extents, openSource } from "./source";

export interface TransferOptions {
  /** Where in the volume to start, in bytes (default 0). */
  offset?: number;
  /** How many bytes at most; 0 (the default) means up to the end. */
  length?: number;
  /** Send holes as holes (`..._SPARSE_STREAM`); the daemon must support sparse streams. */
  sparse?: boolean;
  onProgress?: (progress: TransferProgress) => void;
  /** Aborts the transfer: the stream is aborted and the call rejects with the signal's reason. */
  signal?: AbortSignal;
}

export type UploadOptions = TransferOptions;
export interface DownloadOptions extends TransferOptions {
  /**
   * A path destination must be a new file: a file already there is an error (EEXIST) and is
   * left alone; without, it is overwritten. A file a download creates is readable by its owner
   * only either way (a guest's disk may hold keys).
   */
  exclusive?: boolean;
}

/**
 * Uploads `source` into `vol` (STORAGE_VOL_UPLOAD). Resolves once the daemon has confirmed that
 * every byte reached the volume; rejects with the daemon's LibvirtError if it failed, after
 * stopping at once.
 */
export async function uploadVolume(
  lv: StreamHost,
  vol: RemoteNonnullStorageVol,
  source: UploadSource,
  options: UploadOptions = {},
): Promise<TransferResult> {
  const range = checkRange(options);
  const input = await openSource(source, range.length, range.sparse);
  try {
    const stream = await openVolumeUpload(lv, vol, range);
    const progress = new Progress(input.total, options.onProgress);
    const sent = progress.counting(extents(input.chunks, range.sparse, range.offset));
    await stream.sendAll(sent, { signal: options.signal });
    return progress.result();
  } finally {
    await input.close();
  }
}

/**
 * Downloads `vol` into `destination` (STORAGE_VOL_DOWNLOAD). With `sparse`, a path destination
 * gets the volume's holes as holes; a stream destination gets them as zeros. A path this call
 * created is removed again if the download fails.
 */
export async function downloadVolume(
  lv: StreamHost,
  vol: RemoteNonnullStorageVol,
  destination: DownloadDestination,
  options: DownloadOptions = {},
): Promise<TransferResult> {
  const range = checkRange(options);
  const { offset, length } = range;
  const total = length > 0 ? length : await downloadSize(lv, vol, offset);
  const sink = await openSink(destination, { exclusive: options.exclusive });
  let completed = false;
  try {
    const stream = await openVolumeDownload(lv, vol, range);
    const progress = new Progress(total, options.onProgress);
    const write = async (received: StreamChunk[]) => {
      await sink.write(received);
      progress.add(received);
    };
    await stream.receiveAll(write, { signal: options.signal });
    await sink.complete();
    completed = true;
    return progress.result();
  } finally {
    if (!completed) await sink.discard();
  }
}

/** The range with its defaults; rejects a bad one, or a signal that already fired. */
function checkRange(options: TransferOptions): VolumeRange {
  const { offset = 0, length = 0, sparse = false, signal } = options;
  for (const [name, value] of [
    ["offset", offset],
    ["length", length],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`${name} must be a non-negative whole number of bytes, not ${value}`);
    }
  }
  signal?.throwIfAborted();
  return { offset, length, sparse };
}
