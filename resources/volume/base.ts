/**
 * The base volume of an overlay (`baseVolume`): found by key (or path), or by pool and name. Used
 * by create, and by preflight, which holds an overlay's capacity against a base that exists
 * already (a base made by the same program is not there yet at preview, and is not asked about).
 */
import type { Libvirt, RemoteNonnullStorageVol } from "../../rpc";
import { unlessNotFound } from "../kit/not-found";
import { volumeInPool } from "./by-name";
import { formatSize } from "../kit/units";
import type { VolumeBase } from "../kit/generated/types";

/** The base volume, or undefined when there is none (yet) by that key or name. */
export async function lookupBase(
  lv: Libvirt,
  base: VolumeBase,
): Promise<RemoteNonnullStorageVol | undefined> {
  if (!base.key) return volumeInPool(lv, base.pool!, base.name!);
  const found =
    (await unlessNotFound(() => lv.StorageVolLookupByKey({ key: base.key! }))) ??
    (await unlessNotFound(() => lv.StorageVolLookupByPath({ path: base.key! })));
  return found?.vol;
}

/** The base volume; fails, saying which, when it does not exist. */
export async function findBase(lv: Libvirt, base: VolumeBase): Promise<RemoteNonnullStorageVol> {
  const found = await lookupBase(lv, base);
  if (found) return found;
  const which = base.key
    ? `with key or path ${base.key}`
    : `${base.name} in storage pool ${base.pool}`;
  throw new Error(`the base volume ${which} does not exist (is its pool running?)`);
}

/** Why `wanted` bytes cannot be an overlay on a base of `baseCapacity` bytes, if they cannot. */
export function overlayTooSmall(wanted: number, baseCapacity: number): string | undefined {
  if (wanted >= baseCapacity) return undefined;
  return `capacity ${formatSize(wanted)} is smaller than the base volume's ${formatSize(baseCapacity)} (${baseCapacity} bytes): an overlay is at least as large as its base`;
}
