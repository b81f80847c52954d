/**
 * Volume upload and download over STORAGE_VOL_UPLOAD (208) / STORAGE_VOL_DOWNLOAD (209), like
 * `virsh vol-upload` / `vol-download`:
 *
 *   await uploadVolume(lv, vol, "/images/disk.raw", { sparse: true, onProgress });
 *   await downloadVolume(lv, vol, "/backup/disk.raw", { sparse: true });
 *
 * Memory stays bounded whatever the size: an upload reads its source only as fast as the socket
 * takes the packets; a download writes to its destination with the destination's backpressure, and
 * while the destination is behind, the stream stops reading the socket (see client/stream.ts), so
 * the daemon waits. With `sparse`, holes travel as their length: an upload finds them by content
 * (hole-scanner.ts), a download to a path seeks over them and leaves them unallocated.
 */
import { callProcedure } from "./client/call";
import type { Connection } from "./client/connection";
import { Stream, StreamChunk, StreamDirection, openStream } from "./client/stream";
import { RemoteProcedures } from "./protocol/remote";
import { StorageVolInfoFlags, StorageVolTransferFlags } from "./protocol/remote/constants";
import type { RemoteNonnullStorageVol } from "./protocol/remote/types";
import {
  DownloadDestination,
  UploadSource,
  extents,
  openSink,
  openSource,
} from "./transfer-endpoints";

export type { DownloadDestination, UploadSource };

/** `VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM` */
export const VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM = StorageVolTransferFlags.SPARSE_STREAM;
/** `VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM` */
export const VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM = StorageVolTransferFlags.SPARSE_STREAM;

/** What a transfer needs of a connection: a `Libvirt` will do. */
export interface StreamHost {
  readonly connection: Connection;
}

export interface TransferProgress {
  /** Bytes done so far, holes included. */
  bytes: number;
  /** Bytes expected in all, when known. */
  total: number | undefined;
}

export interface TransferResult {
  /** Bytes transferred, holes included: the length of the volume range or file written. */
  bytes: number;
  /** Of those, bytes that travelled as data. */
  dataBytes: number;
  /** Of those, bytes that travelled as holes. */
  holeBytes: number;
}

interface TransferOptions {
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
export type DownloadOptions = TransferOptions;

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
  const range = checkOptions(options);
  const { length, sparse, signal } = range;
  const input = await openSource(source, length, sparse);
  try {
    const stream = await openVolumeStream(lv, vol, range, "send");
    const progress = new Progress(input.total, options.onProgress);
    await runStream(stream, signal, async () => {
      for await (const extent of extents(input.chunks, sparse)) {
        if (extent.type === "data") await stream.send(extent.data);
        else await stream.sendHole(extent.length);
        progress.add(extent);
      }
      await stream.finish();
    });
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
  const range = checkOptions(options);
  const { offset, length, signal } = range;
  const total = length > 0 ? length : await volumeSize(lv, vol, offset);
  const sink = await openSink(destination);
  let completed = false;
  try {
    const stream = await openVolumeStream(lv, vol, range, "receive");
    const progress = new Progress(total, options.onProgress);
    await runStream(stream, signal, async () => {
      for (
        let chunks = await stream.readAvailable();
        chunks;
        chunks = await stream.readAvailable()
      ) {
        await sink.write(chunks);
        for (const chunk of chunks) progress.add(chunk);
      }
      await stream.finish();
    });
    await sink.complete();
    completed = true;
    return progress.result();
  } finally {
    if (!completed) await sink.discard();
  }
}

interface CheckedOptions {
  offset: number;
  length: number;
  sparse: boolean;
  signal: AbortSignal | undefined;
}

/** The options with their defaults; rejects a bad range, or a signal that already fired. */
function checkOptions(options: TransferOptions): CheckedOptions {
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
  return { offset, length, sparse, signal };
}

/** Sends STORAGE_VOL_UPLOAD ("send") or _DOWNLOAD ("receive") for `vol`; resolves with its stream. */
function openVolumeStream(
  lv: StreamHost,
  vol: RemoteNonnullStorageVol,
  { offset, length, sparse }: CheckedOptions,
  direction: StreamDirection,
): Promise<Stream> {
  const procedure =
    direction === "send" ? RemoteProcedures.StorageVolUpload : RemoteProcedures.StorageVolDownload;
  const flags = sparse ? StorageVolTransferFlags.SPARSE_STREAM : 0;
  const args = { vol, offset: BigInt(offset), length: BigInt(length), flags };
  // A download stops at the length it asked for: a daemon that sends more fails it.
  const maxBytes = direction === "receive" && length > 0 ? length : undefined;
  return openStream(lv.connection, procedure, args, { direction, sparse, maxBytes });
}

/**
 * Runs `body` on an open stream; on failure or abort, aborts the stream and rejects. An abort does
 * not wait for `body`, which may be stuck waiting on its source or destination.
 */
async function runStream(
  stream: Stream,
  signal: AbortSignal | undefined,
  body: () => Promise<void>,
): Promise<void> {
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  // A signal that fired while the stream was opening stops it before any data goes out.
  const running = signal?.aborted ? Promise.reject(signal.reason) : body();
  running.catch(() => undefined); // after an abort, its failure is of no interest
  try {
    await (signal ? Promise.race([running, aborted]) : running);
  } catch (error) {
    await stream.abort();
    throw signal?.aborted ? signal.reason : error;
  } finally {
    signal?.removeEventListener("abort", onAbort!);
  }
}

/** Bytes a download from `offset` will bring, if the daemon can tell (the file size, for files). */
async function volumeSize(
  lv: StreamHost,
  vol: RemoteNonnullStorageVol,
  offset: number,
): Promise<number | undefined> {
  try {
    const info = await callProcedure(lv.connection, RemoteProcedures.StorageVolGetInfoFlags, {
      vol,
      flags: StorageVolInfoFlags.GET_PHYSICAL, // the file size, as allocation
    });
    return Math.max(0, Number(info.allocation) - offset);
  } catch {
    return undefined; // progress then has no total; the download itself does not need one
  }
}

class Progress {
  private dataBytes = 0;
  private holeBytes = 0;

  constructor(
    private readonly total: number | undefined,
    private readonly onProgress: ((progress: TransferProgress) => void) | undefined,
  ) {}

  add(chunk: StreamChunk): void {
    if (chunk.type === "data") this.dataBytes += chunk.data.length;
    else this.holeBytes += chunk.length;
    this.onProgress?.({ bytes: this.dataBytes + this.holeBytes, total: this.total });
  }

  result(): TransferResult {
    return {
      bytes: this.dataBytes + this.holeBytes,
      dataBytes: this.dataBytes,
      holeBytes: this.holeBytes,
    };
  }
}
