/**
 * Volume: created empty, uploaded from `source` (sparse, hashed, with progress) or as a qcow2
 * overlay on `baseVolume`; whatever fails during create removes the volume again. The id is the
 * volume's key (its path in dir pools), stable and unique on the host. `capacity` grows in place
 * with STORAGE_VOL_RESIZE; every other change replaces the volume (rules.ts).
 */
import { Libvirt, RemoteNonnullStoragePool, RemoteNonnullStorageVol } from "../../rpc";
import type { ResourceContext, ResourceHandlers } from "../kit/resource";
import { formatSize, parseSize } from "../kit/units";
import type { VolumeBase, VolumeInputs, VolumeOutputs } from "../kit/generated/types";
import { findBase, overlayTooSmall } from "./base";
import { cloneSpec } from "./clone";
import { contentProblem } from "./content-rules";
import { checkVolume, diffVolume, isAutoNamed, shrinkMessage } from "./rules";
import { findVolumeForGet } from "./find";
import { preflightVolume } from "./preflight";
import { openContentSource } from "./source";
import {
  createFilledVolume,
  deleteVolumeByKey,
  existingVolume,
  refreshPool,
  runningPool,
} from "./storage";
import { uploadContent } from "./upload";
import { readVolumeOrGone, replaceIfMissing } from "./presence";
import { VolumeSpec, buildVolumeXml, formatClass, readVolumeXml } from "./xml";

/** What outputs carry over from the inputs (or the previous outputs) rather than from libvirt. */
type Carried = Pick<VolumeOutputs, "host" | "baseVolume" | "source" | "contentSha256"> &
  Partial<Pick<VolumeOutputs, "cloneOf" | "wipeOnDelete" | "encryption">>;

export const volumeHandlers: ResourceHandlers<VolumeInputs, VolumeOutputs> = {
  check: (inputs) => checkVolume(inputs),

  preflight: preflightVolume,

  diff: (id, olds, news, ctx) =>
    replaceIfMissing(diffVolume(olds, news, !ctx?.refresh), id, olds, ctx, `volume ${olds.name}`),

  async create(inputs, ctx) {
    const lv = await ctx.connect(inputs.host);
    const pool = await runningPool(lv, inputs.pool);
    if (inputs.source) return createFromSource(lv, pool, inputs, ctx);
    if (inputs.cloneOf) {
      const { spec, from } = await cloneSpec(lv, inputs, inputs.cloneOf);
      const volume = { xml: buildVolumeXml(spec), ...newVolume(inputs, ctx), from };
      return createFilledVolume(lv, pool, volume, ctx, async (vol) => {
        await growTo(lv, vol, parseSize(inputs.capacity), false);
        return { id: vol.key, outs: await describe(lv, vol, inputs) };
      });
    }
    const spec: VolumeSpec = inputs.baseVolume
      ? await overlaySpec(lv, inputs, inputs.baseVolume)
      : {
          name: inputs.name!,
          capacity: parseSize(inputs.capacity)!,
          // Not a schema default: format's depends on baseVolume and source (schema.json says so).
          format: inputs.format ?? "raw",
          encryption: inputs.encryption,
        };
    const volume = { xml: buildVolumeXml(spec), ...newVolume(inputs, ctx) };
    return createFilledVolume(lv, pool, volume, ctx, async (vol) => ({
      id: vol.key,
      outs: await describe(lv, vol, inputs),
    }));
  },

  // libvirt records neither where content came from nor the base as it was given: source,
  // contentSha256 and baseVolume stay unset (backingStore names the base).
  async get(id, state, ctx) {
    const lv = await ctx.connect(state.host);
    const vol = await findVolumeForGet(lv, id, "volume", state.pool);
    return { id: vol.key, outs: await describe(lv, vol, { host: state.host }) };
  },

  read: (id, props, ctx) => readVolumeOrGone(id, props, ctx, (lv, vol) => describe(lv, vol, props)),

  async update(id, olds, news, ctx) {
    const { lv, vol } = await existingVolume(id, news, ctx, `volume ${olds.name}`);
    const wanted = parseSize(news.capacity);
    const grownFrom = await growTo(lv, vol, wanted, isAutoNamed(news));
    if (grownFrom !== undefined) {
      ctx.log(
        `virtwire: volume ${vol.name} grown from ${formatSize(grownFrom)} to ${formatSize(wanted!)}`,
      );
    }
    if (olds.wipeOnDelete !== news.wipeOnDelete && (news.wipeOnDelete ?? "none") !== "none") {
      ctx.log(`virtwire: volume ${vol.name}: will be wiped (${news.wipeOnDelete}) when deleted`);
    }
    return describe(lv, vol, { ...news, contentSha256: olds.contentSha256 });
  },

  delete: deleteVolumeByKey,
};

/**
 * Uploads go into a raw volume exactly as large as the content (or `capacity`, when a download
 * has no Content-Length); libvirt then reads the content's format and, for qcow2, its virtual size,
 * and a larger `capacity` grows the volume.
 */
async function createFromSource(
  lv: Libvirt,
  pool: RemoteNonnullStoragePool,
  inputs: VolumeInputs,
  ctx: ResourceContext,
): Promise<{ id: string; outs: VolumeOutputs }> {
  const name = inputs.name!;
  const content = await openContentSource(inputs.source!);
  try {
    const problem = contentProblem(content, inputs);
    if (problem) throw new Error(problem.reason);
    const wanted = parseSize(inputs.capacity);
    const fileSize = content.size ?? wanted;
    if (fileSize === undefined) {
      throw new Error(
        `${content.label} was sent without Content-Length, so its size is unknown before the download: set capacity to at least the image's size`,
      );
    }

    const volume = {
      xml: buildVolumeXml({ name, capacity: fileSize, format: "raw" }),
      ...newVolume(inputs, ctx),
      mark: { owner: ctx.owner?.mark, present: false },
    };
    return await createFilledVolume(lv, pool, volume, ctx, async (vol) => {
      const uploaded = await uploadContent(lv, vol, content, {
        lines: ctx,
        sha256: inputs.source!.sha256,
        limit: content.size === undefined ? fileSize : undefined,
        mark: volume.mark,
        capacity: fileSize,
      });
      await refreshPool(lv, pool);
      await growTo(lv, vol, wanted, false);
      return {
        id: vol.key,
        outs: await describe(lv, vol, { ...inputs, contentSha256: uploaded.sha256 }),
      };
    });
  } finally {
    await content.close();
  }
}

/**
 * Name, host and encryption of the volume to create; an auto-name with a URN known is derived
 * from it.
 */
function newVolume(inputs: VolumeInputs, ctx: ResourceContext) {
  return {
    name: inputs.name!,
    host: inputs.host,
    derivedName: isAutoNamed(inputs) && !!ctx.owner,
    encrypted: inputs.encryption !== undefined,
  };
}

/** A qcow2 overlay on the base volume, as large as the base unless `capacity` says more. */
async function overlaySpec(
  lv: Libvirt,
  inputs: VolumeInputs,
  base: VolumeBase,
): Promise<VolumeSpec> {
  const baseVol = await findBase(lv, base);
  const description = readVolumeXml(
    (await lv.StorageVolGetXMLDesc({ vol: baseVol, flags: 0 })).xml,
  );
  const baseCapacity = description.capacity;
  const wanted = parseSize(inputs.capacity);
  const tooSmall = wanted === undefined ? undefined : overlayTooSmall(wanted, baseCapacity);
  if (tooSmall) throw new Error(tooSmall);
  return {
    name: inputs.name!,
    capacity: wanted,
    format: "qcow2",
    backingStore: {
      path: description.path,
      format: formatClass(description.format),
    },
    encryption: inputs.encryption,
  };
}

/**
 * Grows the volume to `wanted` bytes (STORAGE_VOL_RESIZE) if it is smaller; refuses to shrink it.
 * Returns the capacity it had when it was grown, undefined when nothing changed.
 */
async function growTo(
  lv: Libvirt,
  vol: RemoteNonnullStorageVol,
  wanted: number | undefined,
  autoNamed: boolean,
): Promise<number | undefined> {
  if (wanted === undefined) return undefined;
  const current = Number((await lv.StorageVolGetInfo({ vol })).capacity);
  if (wanted < current) throw new Error(shrinkMessage(wanted, current, autoNamed));
  if (wanted === current) return undefined;
  await lv.StorageVolResize({ vol, capacity: BigInt(wanted), flags: 0 });
  return current;
}

async function describe(
  lv: Libvirt,
  vol: RemoteNonnullStorageVol,
  carried: Carried,
): Promise<VolumeOutputs> {
  // The description carries capacity and allocation too, as STORAGE_VOL_GET_INFO would.
  const description = readVolumeXml((await lv.StorageVolGetXMLDesc({ vol, flags: 0 })).xml);
  return {
    name: vol.name,
    pool: vol.pool,
    host: carried.host,
    capacity: description.capacity,
    allocation: description.allocation,
    format: description.format,
    key: vol.key,
    path: description.path,
    baseVolume: carried.baseVolume,
    backingStore: description.backingStore,
    source: carried.source,
    contentSha256: carried.contentSha256,
    cloneOf: carried.cloneOf,
    // libvirt forgets the secret of a volume once its pool is refreshed: as given.
    encryption: carried.encryption,
    // Not a schema default: a default would enter the name derived for a replacement
    // (replacementAutoName in resources/kit/check.ts), and names must not change between versions.
    wipeOnDelete: carried.wipeOnDelete ?? "none",
  } satisfies VolumeOutputs;
}
