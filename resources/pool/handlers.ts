/**
 * Pool: define → build → start → autostart on create (undone in reverse if a step fails);
 * autostart and permissions change in place (permissions by stopping, building and starting the
 * pool again), and a stopped pool is started again (a dir pool's directory built again first); name, type, target and source replace the pool.
 * Delete stops and undefines, and deletes the storage only when `deleteTargetOnDestroy` is set, and
 * then a logical pool's volume group or a disk pool's partition table only when virtwire built it
 * (`built`): building never writes over a device that holds one (NO_OVERWRITE), and what was there
 * before is somebody's data.
 */
import {
  ErrorCode,
  Libvirt,
  RemoteNonnullStoragePool,
  StoragePoolBuildFlags,
  StoragePoolState,
  StorageXMLFlags,
  formatUuid,
  hasErrorCode,
  parseUuid,
} from "../../rpc";
import { preserveUserIntent, sameHost, schemaDiff } from "../kit/diff";
import { unlessNotFound } from "../kit/not-found";
import { NotFoundError, lookupByUuidOrName } from "../kit/get";
import { poolDefaults } from "../kit/generated/checked";
import { markedUuid } from "../kit/owner";
import type { ResourceHandlers } from "../kit/resource";
import type { PoolInputs, PoolOutputs, PoolSource } from "../kit/generated/types";
import { checkPool } from "./check";
import { lookAgainIfDir } from "./look-again";
import { preflightPool } from "./preflight";
import { removeLeftoverPool, undoPool } from "./removal";
import { buildPoolXml, readPoolXml, sameMode, sanitizePath } from "./xml";

export const poolHandlers: ResourceHandlers<PoolInputs, PoolOutputs> = {
  check: checkPool,

  preflight: preflightPool,

  diff(_id, olds, news) {
    const result = schemaDiff("Pool", olds, news);
    // A pool found stopped (by read) is started again by update.
    if (olds.active === false) result.changes = true;
    // Two pools cannot have one target directory ("Storage source conflict"; found by generated
    // inputs, when a name change replaced a pool): the old one goes first.
    // (A get's inputs, which a refresh's diff compares, may have no targetPath.)
    const target = (path: string | undefined) =>
      path === undefined ? undefined : sanitizePath(path);
    const sameHome =
      sameHost(olds.host, news.host) && target(olds.targetPath) === target(news.targetPath);
    if (result.replaces.length > 0 && sameHome) result.deleteBeforeReplace = true;
    return result;
  },

  async create(inputs, ctx) {
    const lv = await ctx.connect(inputs.host);
    await removeLeftoverPool(lv, inputs.name!, ctx);
    // A new UUID with this resource's mark in it, when the resource is known.
    const uuid = ctx.owner && markedUuid(ctx.owner.mark);
    const { pool } = await lv.StoragePoolDefineXML({ xml: buildPoolXml(inputs, uuid), flags: 0 });
    // Until the engine has the id, a failure must remove the pool: describing it is part of that.
    let built = false;
    try {
      built = await build(lv, pool, inputs);
      await lv.StoragePoolCreate({ pool, flags: 0 });
      await lv.StoragePoolSetAutostart({ pool, autostart: inputs.autostart ? 1 : 0 });
      return { id: formatUuid(pool.uuid), outs: await describe(lv, pool, { ...inputs, built }) };
    } catch (error) {
      throw await undoPool(ctx, error, pool, inputs, built);
    }
  },

  async get(id, state, ctx) {
    const lv = await ctx.connect(state.host);
    const pool = await lookupByUuidOrName(
      id,
      async (uuid) => (await lv.StoragePoolLookupByUUID({ uuid })).pool,
      async (name) => (await lv.StoragePoolLookupByName({ name })).pool,
    );
    if (!pool) throw new NotFoundError("storage pool", id, "UUID or name", POOLS_HINT);
    await refreshStorage(lv, pool);
    const settings = {
      host: state.host,
      deleteTargetOnDestroy: state.deleteTargetOnDestroy ?? poolDefaults.deleteTargetOnDestroy,
      // Pulumi never deletes what it got: nothing of it counts as built by virtwire.
      built: false,
    };
    return { id: formatUuid(pool.uuid), outs: await describe(lv, pool, settings, true) };
  },

  async read(id, props, ctx) {
    const lv = await ctx.connect(props.host);
    const pool = await lookup(lv, id);
    if (!pool) return undefined;
    await refreshStorage(lv, pool);
    return unlessNotFound(() => describe(lv, pool, props));
  },

  async update(id, olds, news, ctx) {
    const lv = await ctx.connect(news.host);
    const pool = await lookup(lv, id);
    if (!pool)
      throw new Error(`storage pool ${olds.name} (${id}) no longer exists; run pulumi refresh`);
    const changed = schemaDiff("Pool", olds, news).changed;
    let { active } = await lv.StoragePoolIsActive({ pool });
    let built = false;
    if (changed.includes("permissions")) {
      await lv.StoragePoolDefineXML({ xml: buildPoolXml(news, id), flags: 0 });
      // libvirt sets the target directory's mode and owner when it builds the pool, and builds
      // only a stopped pool ("already active", found by generated inputs): the pool stops for a
      // moment. Its volumes stay as they are; guests keep the files they have open.
      if (hasDirectory(news.type)) {
        if (active) await lv.StoragePoolDestroy({ pool });
        active = 0;
        await build(lv, pool, news);
        built = true;
      }
    }
    if (!active) {
      // A dir pool's directory may be gone (that is how a refresh finds it stopped); building
      // makes it again and leaves an existing one as it is.
      if (news.type === "dir" && !built) await build(lv, pool, news);
      await lv.StoragePoolCreate({ pool, flags: 0 });
    }
    await lv.StoragePoolSetAutostart({ pool, autostart: news.autostart ? 1 : 0 });
    return describe(lv, pool, { ...news, built: olds.built });
  },

  async delete(id, props, ctx) {
    const lv = await ctx.connect(props.host);
    const pool = await lookup(lv, id);
    if (!pool) return;
    await unlessNotFound(async () => {
      if ((await lv.StoragePoolIsActive({ pool })).active) await lv.StoragePoolDestroy({ pool });
      if (props.deleteTargetOnDestroy) {
        if (hasDirectory(props.type) || props.built) await lv.StoragePoolDelete({ pool, flags: 0 });
        else
          ctx.log(
            `virtwire: storage pool ${props.name}: its ${props.type} storage kept, as virtwire did not build it`,
          );
      }
      await lv.StoragePoolUndefine({ pool });
    });
  },
};

/**
 * How each type is built: NO_OVERWRITE makes storage on a device only when it holds none (fs:
 * mkfs, logical: a volume group, disk: a partition table); a netfs pool's build makes its mount
 * point only, and NO_OVERWRITE would ask it to format a device it has not got.
 */
const BUILD_FLAGS: Partial<Record<string, number>> = {
  dir: StoragePoolBuildFlags.NEW,
  netfs: 0,
};

/** Pools whose storage is a directory of the host (a mount point for fs and netfs). */
function hasDirectory(type: string | undefined): boolean {
  return type === "dir" || type === "fs" || type === "netfs";
}

/**
 * dir pools: creates the directory with its permissions. Others: never overwrites existing data:
 * a device that already holds a file system, volume group or partition table (STORAGE_POOL_BUILT)
 * is used as it is. An iscsi pool has nothing to build. Whether this build made the pool's storage.
 */
async function build(
  lv: Libvirt,
  pool: RemoteNonnullStoragePool,
  inputs: PoolInputs,
): Promise<boolean> {
  if (inputs.type === "iscsi") return false;
  try {
    await lv.StoragePoolBuild({
      pool,
      flags: BUILD_FLAGS[inputs.type] ?? StoragePoolBuildFlags.NO_OVERWRITE,
    });
    return true;
  } catch (error) {
    if (hasErrorCode(error, ErrorCode.STORAGE_POOL_BUILT)) return false;
    throw error;
  }
}

const POOLS_HINT = " (virsh pool-list --all lists the storage pools of a host)";

/**
 * libvirt looks at the storage again only on a refresh: volumes deleted behind its back are
 * dropped then, and a pool whose directory is gone fails the refresh and stops (update builds
 * and starts it again).
 */
async function refreshStorage(lv: Libvirt, pool: RemoteNonnullStoragePool): Promise<void> {
  if ((await lv.StoragePoolIsActive({ pool })).active) await lookAgainIfDir(lv, pool);
}

function lookup(lv: Libvirt, id: string): Promise<RemoteNonnullStoragePool | undefined> {
  return unlessNotFound(
    async () => (await lv.StoragePoolLookupByUUID({ uuid: parseUuid(id) })).pool,
  );
}

/**
 * The pool as libvirt has it; of the input properties, only those set in `previous` (user intent,
 * resources/kit/diff.ts), or every one when `complete` (a get).
 */
async function describe(
  lv: Libvirt,
  pool: RemoteNonnullStoragePool,
  previous: Partial<PoolInputs & Pick<PoolOutputs, "built">>,
  complete = false,
): Promise<PoolOutputs> {
  const [{ xml }, info, { autostart }] = await Promise.all([
    lv.StoragePoolGetXMLDesc({ pool, flags: StorageXMLFlags.INACTIVE }),
    lv.StoragePoolGetInfo({ pool }),
    lv.StoragePoolGetAutostart({ pool }),
  ]);
  const description = readPoolXml(xml);
  const outputs: PoolOutputs = {
    name: description.name,
    type: description.type,
    // libvirt stores the path sanitized (no doubled or trailing slash): the user's spelling is kept.
    targetPath:
      previous.targetPath !== undefined &&
      sanitizePath(previous.targetPath) === description.targetPath
        ? previous.targetPath
        : description.targetPath,
    // The mode as the user spelt it (`755` or `0755`), when it is the same bits.
    permissions: sameMode(previous.permissions?.mode, description.permissions.mode)
      ? { ...description.permissions, mode: previous.permissions!.mode }
      : description.permissions,
    // A dir pool's XML has no source: reported as none, not as an empty one.
    source: complete && isEmpty(description.source) ? undefined : description.source,
    autostart: autostart === 1,
    // Settings of virtwire itself, not of libvirt: carried over as given.
    deleteTargetOnDestroy: previous.deleteTargetOnDestroy,
    host: previous.host,
    uuid: formatUuid(pool.uuid),
    active: info.state === StoragePoolState.RUNNING,
    capacity: Number(info.capacity),
    allocation: Number(info.allocation),
    available: Number(info.available),
    built: previous.built ?? false,
  };
  return complete ? outputs : preserveUserIntent("Pool", previous, outputs);
}

function isEmpty(source: PoolSource): boolean {
  return Object.values(source).every((value) => value === undefined || value.length === 0);
}
