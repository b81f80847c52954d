/**
 * A full copy of another volume (`cloneOf`), made by libvirt on the host with
 * STORAGE_VOL_CREATE_XML_FROM: the new volume is independent of the original from the start, unlike
 * a `baseVolume` overlay, which reads its base for as long as it lives. libvirt copies the data
 * (converting the format with qemu-img when it differs, keeping holes in raw files); the copy
 * starts as large as the original, and a larger `capacity` grows it afterwards.
 *
 * An original a running guest writes to is refused (at preview when the guest runs then, else at
 * up before anything is copied): the copy would catch its blocks at different moments, a
 * filesystem half written. A base under an overlay (an external snapshot's) is read only and
 * can be copied.
 */
import type { Libvirt, RemoteNonnullStorageVol } from "../../rpc";
import { volumeInPool } from "./by-name";
import { formatSize, parseSize } from "../kit/units";
import type { VolumeCloneOf, VolumeInputs } from "../kit/generated/types";
import { VolumeUser, describeUsers, domainsUsing } from "./users";
import { VolumeSpec, formatClass, readVolumeXml } from "./xml";

/** The volume to copy, or undefined when its pool or the volume does not exist (yet). */
export function lookupOriginal(
  lv: Libvirt,
  original: VolumeCloneOf,
): Promise<RemoteNonnullStorageVol | undefined> {
  return volumeInPool(lv, original.pool, original.name);
}

/** The new volume's description and the volume libvirt copies into it. */
export async function cloneSpec(
  lv: Libvirt,
  inputs: VolumeInputs,
  original: VolumeCloneOf,
): Promise<{ spec: VolumeSpec; from: RemoteNonnullStorageVol }> {
  const from = await lookupOriginal(lv, original);
  if (!from) {
    throw new Error(
      `the volume to copy (cloneOf), ${original.name} in storage pool ${original.pool}, does not exist (is its pool running?)`,
    );
  }
  const writers = await domainsUsing(lv, from, "running", { writing: true });
  if (writers.length > 0) throw new Error(cloneInUse(original, writers));
  const description = readVolumeXml((await lv.StorageVolGetXMLDesc({ vol: from, flags: 0 })).xml);
  const wanted = parseSize(inputs.capacity);
  if (wanted !== undefined && wanted < description.capacity) {
    throw new Error(cloneTooSmall(wanted, description.capacity));
  }
  const spec = {
    name: inputs.name!,
    capacity: description.capacity,
    format: inputs.format ?? formatClass(description.format),
  };
  return { spec, from };
}

export function cloneTooSmall(wanted: number, capacity: number): string {
  return `capacity ${formatSize(wanted)} is smaller than the original volume's ${formatSize(capacity)} (${capacity} bytes): a copy is at least as large as its original; leave capacity out or make it larger`;
}

export function cloneInUse(original: VolumeCloneOf, users: VolumeUser[]): string {
  const names = users.map((user) => user.domain).join(", ");
  return `the volume to copy (cloneOf), ${original.name} in storage pool ${original.pool}, is written to by ${describeUsers(users)}, and a copy of a disk in use is inconsistent (blocks copied at different moments): shut ${names} down first (running: false on its Domain), or take an external DomainSnapshot of it first (the volume then stays as it was, read only, under the snapshot's overlay)`;
}
