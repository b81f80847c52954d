/**
 * The streams of volume upload and download: STORAGE_VOL_UPLOAD (208) and STORAGE_VOL_DOWNLOAD
 * (209), libvirt's virStorageVolUpload / virStorageVolDownload. rpc opens the stream; what goes
 * through it comes from or goes to transfer/ (transfer/volume.ts: files, holes, progress), which
 * drives it with `stream.sendAll` / `stream.receiveAll`.
 */
import { callProcedure } from "./client/call";
import type { Connection } from "./client/connection";
import { openStream } from "./client/open-stream";
import type { Stream } from "./client/stream";
import { RemoteProcedures } from "./protocol/remote";
import { StorageVolInfoFlags, StorageVolTransferFlags } from "./protocol/remote/constants";
import type { RemoteNonnullStorageVol } from "./protocol/remote/types";

/** What a volume stream needs of a connection: a `Libvirt` will do. */
export interface StreamHost {
  readonly connection: Connection;
}

/** The part of the volume a stream covers, and whether holes travel as holes. */
export interface VolumeRange {
  /** Where in the volume to start, in bytes. */
  offset: number;
  /** How many bytes at most; 0 means up to the end. */
  length: number;
  /** `..._SPARSE_STREAM`: the daemon must support sparse streams. */
  sparse: boolean;
}

/** STORAGE_VOL_UPLOAD: resolves with the stream to send the range's content on. */
export function openVolumeUpload(
  lv: StreamHost,
  vol: RemoteNonnullStorageVol,
  range: VolumeRange,
): Promise<Stream> {
  const args = volumeArgs(vol, range);
  const { sparse } = range;
  return openStream(lv.connection, RemoteProcedures.StorageVolUpload, args, {
    direction: "send",
    sparse,
  });
}

/** STORAGE_VOL_DOWNLOAD: resolves with the stream the range's content arrives on. */
export function openVolumeDownload(
  lv: StreamHost,
  vol: RemoteNonnullStorageVol,
  range: VolumeRange,
): Promise<Stream> {
  const args = volumeArgs(vol, range);
  const { sparse, length } = range;
  // A download stops at the length it asked for: a daemon that sends more fails it.
  const maxBytes = length > 0 ? length : undefined;
  return openStream(lv.connection, RemoteProcedures.StorageVolDownload, args, {
    direction: "receive",
    sparse,
    maxBytes,
  });
}

function volumeArgs(vol: RemoteNonnullStorageVol, { offset, length, sparse }: VolumeRange) {
  const flags = sparse ? StorageVolTransferFlags.SPARSE_STREAM : 0;
  return { vol, offset: BigInt(offset), length: BigInt(length), flags };
}

/** Bytes a download from `offset` will bring, if the daemon can tell (the file size, for files). */
export async function downloadSize(
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
