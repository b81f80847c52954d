/**
 * Removing storage pools a create made: the clean-up of a failed create, and the leftover of a
 * failed earlier create of the same resource. Pool XML has no metadata, so the mark is in the
 * pool's UUID (resources/kit/owner.ts), and only a pool with the wanted name is looked at: a Pool with
 * an auto-name is replaced by creating the new one first, so another pool of this resource may be
 * live. A leftover is stopped and undefined; its storage stays (it may hold volumes), and building
 * the pool again leaves an existing directory as it is. A pool that has the wanted name but not the
 * mark is somebody else's: the create fails and touches nothing.
 */
import { formatUuid, isNotFound } from "../../rpc";
import type { Libvirt, RemoteNonnullStoragePool } from "../../rpc";
import { unlessNotFound } from "../kit/not-found";
import { leftoverRemoved, leftoversOf, undoHalfMade } from "../kit/leftovers";
import type { HalfMade } from "../kit/leftovers";
import { uuidMarks } from "../kit/owner";
import type { ResourceContext } from "../kit/resource";

/**
 * The error to throw after a create failed with `error` once `pool` was defined; `built`: the
 * create had built the pool's storage.
 */
export function undoPool(
  ctx: ResourceContext,
  error: unknown,
  pool: RemoteNonnullStoragePool,
  inputs: { host?: string; type: string },
  built = false,
): Promise<unknown> {
  const object: HalfMade = {
    host: inputs.host,
    what: `storage pool ${pool.name}, perhaps active`,
    marked: ctx.owner !== undefined,
    foundByName: true,
    byHand: (virsh) =>
      `${virsh} pool-destroy ${pool.name} (if it is active), then ${virsh} pool-undefine ${pool.name}`,
  };
  return undoHalfMade(ctx, error, object, async (lv) => {
    if ((await lv.StoragePoolIsActive({ pool })).active) await lv.StoragePoolDestroy({ pool });
    // A dir pool's directory goes only if it is empty; one that is not is left as it is.
    if (inputs.type === "dir")
      await lv.StoragePoolDelete({ pool, flags: 0 }).catch(() => undefined);
    // A volume group or partition table this create made goes too: a retry would take it for
    // somebody's (STORAGE_POOL_BUILT) and never delete it.
    else if (built && (inputs.type === "logical" || inputs.type === "disk"))
      await lv.StoragePoolDelete({ pool, flags: 0 });
    await lv.StoragePoolUndefine({ pool });
  });
}

/**
 * Before a fresh create of pool `name`: removes this resource's leftover of that name, and fails
 * if the name is taken by a pool without the mark. Does nothing unless the create is fresh.
 */
export async function removeLeftoverPool(
  lv: Libvirt,
  name: string,
  ctx: ResourceContext,
): Promise<void> {
  const owner = ctx.owner;
  if (!owner?.fresh) return;
  const found = await unlessNotFound(() => lv.StoragePoolLookupByName({ name }));
  if (!found) return;
  const { pool } = found;
  const mark = uuidMarks(formatUuid(pool.uuid), owner.mark) ? owner.mark : undefined;
  leftoversOf("storage pool", name, [{ object: pool, name, mark }], owner);
  try {
    if ((await lv.StoragePoolIsActive({ pool })).active) await lv.StoragePoolDestroy({ pool });
    await lv.StoragePoolUndefine({ pool });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  ctx.log(leftoverRemoved(`storage pool ${name}`, " (its storage kept)"));
}
