/**
 * Storage steps shared by Volume and CloudInitDisk: finding the pool a volume goes into, finding a
 * volume by key (telling "gone" from "its pool is stopped"), creating and filling one (a leftover
 * of the same resource under its name removed first, a message users can act on when the name is
 * somebody else's, and the half-made volume removed on failure),
 * refreshing a pool while other volumes are being built, and deleting one that may be gone.
 */
import {
  ErrorCode,
  Libvirt,
  RemoteNonnullStoragePool,
  RemoteNonnullStorageVol,
  StorageVolWipeAlgorithm,
  hasErrorCode,
  isNoStoragePool,
  isNotFound,
  isPoolBusy,
} from "../../rpc/internal";
import { unlessNotFound } from "../kit/not-found";
import { leftoverRemoved, undoHalfMade } from "../kit/leftovers";
import type { HalfMade } from "../kit/leftovers";
import type { ResourceContext } from "../kit/resource";
import { sleep } from "../kit/sleep";
import { tryAgainWhile } from "../kit/try-again";
import type { VolumeWipeAlgorithm } from "../kit/generated/types";
import { lookAgainIfDir } from "../pool/look-again";
import { UploadMark, hasUploadMark } from "./upload-mark";
import { describeUsers, domainsUsing, VolumeUser } from "./users";

/** Where a volume resource lives: the host (a `virtwire:hosts` key) and the pool's name. */
export interface VolumePlace {
  host?: string;
  pool: string;
  /** How the volume is overwritten before it is deleted (a Volume's `wipeOnDelete`). */
  wipeOnDelete?: VolumeWipeAlgorithm;
}

/** libvirt's number for each `wipeOnDelete` algorithm but none. */
const WIPE_ALGORITHM: Record<Exclude<VolumeWipeAlgorithm, "none">, StorageVolWipeAlgorithm> = {
  zero: StorageVolWipeAlgorithm.ZERO,
  nnsa: StorageVolWipeAlgorithm.NNSA,
  dod: StorageVolWipeAlgorithm.DOD,
  bsi: StorageVolWipeAlgorithm.BSI,
  gutmann: StorageVolWipeAlgorithm.GUTMANN,
  schneier: StorageVolWipeAlgorithm.SCHNEIER,
  pfitzner7: StorageVolWipeAlgorithm.PFITZNER7,
  pfitzner33: StorageVolWipeAlgorithm.PFITZNER33,
  random: StorageVolWipeAlgorithm.RANDOM,
};

/**
 * Keys of volumes a create in this process made (and filled) under their own derived name after
 * deleting the volume that had it. A create cannot tell a failed earlier create's leftover from the
 * resource's own volume under `pulumi up --replace` (the engine asks neither diff nor its
 * deleteBeforeReplace then, and makes the new volume before it deletes the old one); in the
 * latter the engine deletes the old resource, by the same key, later in the same run, and that
 * delete must leave the new volume alone. A Pulumi run has one provider process.
 */
const remadeInPlace = new Set<string>();

/** How long a pool refresh waits for other volumes being built in the pool. */
const REFRESH_PATIENCE_MS = 120_000;
const REFRESH_RETRY_MS = 250;

/** The running pool called `name`; a missing or stopped pool fails with what to do. */
export async function runningPool(lv: Libvirt, name: string): Promise<RemoteNonnullStoragePool> {
  let pool: RemoteNonnullStoragePool;
  try {
    ({ pool } = await lv.StoragePoolLookupByName({ name }));
  } catch (error) {
    if (isNoStoragePool(error)) {
      throw new Error(
        `storage pool ${JSON.stringify(name)} does not exist: create it first (a virtwire Pool) and pass its name`,
        { cause: error },
      );
    }
    throw error;
  }
  if (!(await lv.StoragePoolIsActive({ pool })).active) {
    throw new Error(
      `storage pool ${JSON.stringify(name)} is not running: start it (virsh pool-start ${name}) and try again`,
    );
  }
  return pool;
}

/**
 * The volume with this key, or undefined when it no longer exists. A volume whose pool is stopped
 * cannot be looked up either; that is an error, not a deletion.
 */
export async function findVolume(
  lv: Libvirt,
  key: string,
  poolName: string | undefined,
): Promise<RemoteNonnullStorageVol | undefined> {
  try {
    return (await lv.StorageVolLookupByKey({ key })).vol;
  } catch (error) {
    if (!isNotFound(error)) throw error;
    if (poolName !== undefined) await assertPoolNotStopped(lv, poolName, key);
    return undefined;
  }
}

/** The connection to the resource's host and its volume with key `id` (undefined: gone). */
export async function lookupVolume(
  id: string,
  place: VolumePlace,
  ctx: ResourceContext,
): Promise<{ lv: Libvirt; vol: RemoteNonnullStorageVol | undefined }> {
  const lv = await ctx.connect(place.host);
  return { lv, vol: await findVolume(lv, id, place.pool) };
}

/** As lookupVolume, for an update: the volume must still exist; `what` names it for the user. */
export async function existingVolume(
  id: string,
  place: VolumePlace,
  ctx: ResourceContext,
  what: string,
): Promise<{ lv: Libvirt; vol: RemoteNonnullStorageVol }> {
  const { lv, vol } = await lookupVolume(id, place, ctx);
  if (!vol) throw new Error(`${what} (${id}) no longer exists; run pulumi refresh`);
  return { lv, vol };
}

/**
 * The delete handler: removes the volume with key `id`; one that is already gone is fine. A volume
 * a running domain uses is refused (users.ts); one that only defined domains use is deleted, as
 * libvirt allows: such a domain starts again only once its disk exists, which a replacement under
 * the same name or the Domain's own update in the same `pulumi up` sees to.
 */
export async function deleteVolumeByKey(
  id: string,
  place: VolumePlace,
  ctx: ResourceContext,
): Promise<void> {
  const { lv, vol } = await lookupVolume(id, place, ctx);
  if (!vol) return;
  if (remadeInPlace.delete(id)) {
    ctx.log(
      `virtwire: volume ${vol.name} in storage pool ${vol.pool}: not deleted again: its replacement under the same name already took its place in this run`,
    );
    return;
  }
  const users = await domainsUsing(lv, vol, "running");
  if (users.length > 0) {
    const path = (await lv.StorageVolGetPath({ vol })).name;
    throw new Error(
      `volume ${vol.name} in storage pool ${vol.pool} (${path}) is in use by ${describeUsers(users)}, so it was not deleted: deleting it would pull the disk from under the guest. ${stopFirst(users)} and run pulumi up again, or change the Domain so that it no longer uses the volume in the same pulumi up (a replacement volume with another name is made beside this one, and this one is deleted only after the Domain moved over)`,
    );
  }
  const wipe = place.wipeOnDelete;
  if (wipe !== undefined && wipe !== "none") {
    // A failed wipe fails the delete: the volume stays, with its data, and the error says why.
    await lv.StorageVolWipePattern({ vol, algorithm: WIPE_ALGORITHM[wipe], flags: 0 });
    ctx.log(
      `virtwire: volume ${vol.name} in storage pool ${vol.pool}: wiped (${wipe}) before its deletion`,
    );
  }
  await deleteVolume(lv, vol);
}

/** "Stop domain vm1 first (…)": what frees a volume the domains `users` hold. */
function stopFirst(users: VolumeUser[]): string {
  const names = users.map((user) => user.domain);
  return `Stop ${names.length === 1 ? "that domain" : "those domains"} first (running: false on ${names.length === 1 ? "its Domain" : "their Domains"}, or virsh shutdown ${names.join(", virsh shutdown ")})`;
}

async function assertPoolNotStopped(lv: Libvirt, name: string, key: string): Promise<void> {
  let pool: RemoteNonnullStoragePool;
  try {
    ({ pool } = await lv.StoragePoolLookupByName({ name }));
  } catch (error) {
    if (isNotFound(error)) return; // the pool is gone, and its volumes with it
    throw error;
  }
  if (!(await lv.StoragePoolIsActive({ pool })).active) {
    throw new Error(
      `storage pool ${name} is not running, so volume ${key} cannot be found: start the pool (virsh pool-start ${name}) and try again`,
    );
  }
}

/** Tries of an encrypted volume's create, and the pause between them (see createVolume). */
export const ENCRYPTED_CREATE_ATTEMPTS = 10;
const ENCRYPTED_CREATE_PAUSE_MS = 1000;

/** A volume to create: its XML and name, and what its name says about whose it is. */
export interface NewVolume {
  xml: string;
  name: string;
  /** The host (a `virtwire:hosts` key), for the clean-up's connection. */
  host?: string;
  /**
   * virtwire derived the name from the resource's URN (resources/kit/naming.ts), so a volume of that
   * name is this resource's: in a fresh create, the leftover of a failed earlier one.
   */
  derivedName: boolean;
  /** Added to the message when the name is taken. */
  hint?: string;
  /** The mark of the volume's upload, for one that is uploaded (upload-mark.ts). */
  mark?: UploadMark;
  /** The volume libvirt copies into the new one (STORAGE_VOL_CREATE_XML_FROM), for a clone. */
  from?: RemoteNonnullStorageVol;
  /** LUKS-encrypted (`encryption`): libvirt runs `qemu-img create` with a key derivation. */
  encrypted?: boolean;
}

/**
 * Creates a volume from `volume.xml` and runs `fill` on it; when filling fails, the volume is
 * removed again (over a new connection if the create's died) before the error goes on.
 */
export async function createFilledVolume<T>(
  lv: Libvirt,
  pool: RemoteNonnullStoragePool,
  volume: NewVolume,
  ctx: ResourceContext,
  fill: (vol: RemoteNonnullStorageVol) => Promise<T>,
): Promise<T> {
  const { vol, remade } = await createVolume(lv, pool, volume, ctx);
  try {
    const filled = await fill(vol);
    if (remade) remadeInPlace.add(vol.key);
    return filled;
  } catch (error) {
    const object: HalfMade = {
      host: volume.host,
      what: `volume ${vol.name} in storage pool ${vol.pool}, perhaps half-written`,
      // The next fresh create knows it by its derived name, or by the mark of its upload.
      marked: volume.derivedName || volume.mark?.present === true,
      foundByName: true,
      byHand: (virsh) => `${virsh} vol-delete ${vol.name} --pool ${vol.pool}`,
    };
    throw await undoHalfMade(ctx, error, object, (again) => deleteVolume(again, vol));
  }
}

/**
 * STORAGE_VOL_CREATE_XML. When the name is taken, in a fresh create, by this resource's leftover
 * (its derived name, or the mark of an upload of this resource cut short), that volume is deleted
 * and the volume created again, unless a domain (running or not) uses it: then it is no leftover. Otherwise fails saying so. `remade`: a volume of the same
 * name was deleted first.
 */
async function createVolume(
  lv: Libvirt,
  pool: RemoteNonnullStoragePool,
  volume: NewVolume,
  ctx: ResourceContext,
): Promise<{ vol: RemoteNonnullStorageVol; remade: boolean }> {
  const { xml, name, from } = volume;
  const create = async () =>
    from
      ? (await lv.StorageVolCreateXMLFrom({ pool, xml, clonevol: from, flags: 0 })).vol
      : (await lv.StorageVolCreateXML({ pool, xml, flags: 0 })).vol;
  // For a LUKS volume QEMU times its key derivation by the thread's CPU time and gives up when it
  // reads 0 ms ("Unable to get accurate CPU usage", an INTERNAL_ERROR from libvirt): a QEMU bug of
  // fast hosts, fixed upstream in 2025. Debian 12's qemu-img 7.2 failed 21 of 60 and 24 of 80
  // LUKS creates on an idle test bed, up to 4 in a row, and three tries a second apart failed a
  // whole test run. libvirt removes what the failed build made, so the create is tried up to ten
  // times, a second apart (all failing would be 0.3^10, about 6 in a million, if independent).
  const qemuImgFlaked = (error: unknown) =>
    volume.encrypted === true && hasErrorCode(error, ErrorCode.INTERNAL_ERROR);
  const make = () =>
    tryAgainWhile(qemuImgFlaked, ENCRYPTED_CREATE_ATTEMPTS, ENCRYPTED_CREATE_PAUSE_MS, create);
  try {
    return { vol: await make(), remade: false };
  } catch (error) {
    if (!hasErrorCode(error, ErrorCode.STORAGE_VOL_EXIST)) throw error;
    // Gone again meanwhile: nothing to tell about it.
    const existing = await unlessNotFound(() => lv.StorageVolLookupByName({ pool, name }));
    const users = existing ? await domainsUsing(lv, existing.vol, "any") : [];
    const owner = ctx.owner;
    const removed =
      existing && owner?.fresh && users.length === 0
        ? await ownLeftover(lv, existing.vol, volume, owner.mark, pool.name)
        : undefined;
    if (existing && removed) {
      await deleteVolume(lv, existing.vol);
      ctx.log(removed);
      return { vol: await make(), remade: true };
    }
    throw new Error(takenMessage(volume, pool.name, users), { cause: error });
  }
}

/**
 * When `vol` is this resource's leftover, the line that says so once it is removed: a volume
 * under the name virtwire derives for the resource, or one with the mark of an upload of this
 * resource that was cut short (upload-mark.ts); undefined for any other volume.
 */
async function ownLeftover(
  lv: Libvirt,
  vol: RemoteNonnullStorageVol,
  volume: NewVolume,
  owner: string,
  pool: string,
): Promise<string | undefined> {
  const what = `volume ${volume.name} in storage pool ${pool}`;
  if (volume.derivedName) {
    return leftoverRemoved(
      what,
      "",
      " (or it was this resource's own volume, and this is pulumi up --replace)",
    );
  }
  if (await hasUploadMark(lv, vol, owner)) {
    return `virtwire: ${what}: removed, left half-written by an upload of this resource cut short`;
  }
  return undefined;
}

/**
 * Why a create found its volume's name taken, and what to do; never advises deleting a volume that
 * may be in the state: a name virtwire derived is this resource's own, and a volume a domain uses
 * is no leftover.
 */
function takenMessage(volume: NewVolume, pool: string, users: VolumeUser[]): string {
  const { name } = volume;
  const used = users.length > 0 ? `, used by ${describeUsers(users)}` : "";
  const taken = `a volume named ${JSON.stringify(name)} already exists in storage pool ${pool}${used}${volume.hint ?? ""}`;
  const stop = users.some((user) => user.running)
    ? ", and the domain stopped, as the old volume is then deleted first"
    : "";
  const replace = `pulumi up --replace makes the new volume before it deletes the old one, so under the same name it needs the resource option deleteBeforeReplace: true${stop}; or give the volume another name`;
  if (volume.derivedName) {
    return `${taken}. Its name is the one virtwire derives for this resource, so it is this resource's own volume${users.length > 0 ? ", not a leftover of a failed run" : ""}: ${replace}`;
  }
  if (users.length > 0) return `${taken}. If it is this resource's own volume: ${replace}`;
  return `${taken}. If it is this resource's own volume: ${replace}. If it is left over from a failed run and nothing needs it, delete it (virsh vol-delete ${name} --pool ${pool})`;
}

/**
 * STORAGE_POOL_REFRESH: makes libvirt read a volume's content again (its format and, for qcow2,
 * its virtual size) after an upload. libvirt refuses while another volume of the pool is being
 * built ("pool has asynchronous jobs running"), which parallel creates in one pool cause; retried.
 */
export async function refreshPool(
  lv: Libvirt,
  pool: RemoteNonnullStoragePool,
  wait = sleep,
): Promise<void> {
  const deadline = Date.now() + REFRESH_PATIENCE_MS;
  for (;;) {
    try {
      await lv.StoragePoolRefresh({ pool, flags: 0 });
      return;
    } catch (error) {
      if (!isPoolBusy(error) || Date.now() > deadline) throw error;
      await wait(REFRESH_RETRY_MS);
    }
  }
}

/**
 * Deletes a volume; one that is already gone is not an error. A volume whose file was deleted
 * behind libvirt's back stays listed (and its name taken) until the pool is refreshed.
 */
async function deleteVolume(lv: Libvirt, vol: RemoteNonnullStorageVol): Promise<void> {
  try {
    await lv.StorageVolDelete({ vol, flags: 0 });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    const pool = await unlessNotFound(() => lv.StoragePoolLookupByName({ name: vol.pool }));
    if (pool) await lookAgainIfDir(lv, pool.pool);
  }
}
