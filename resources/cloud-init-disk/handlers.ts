/**
 * CloudInitDisk: the NoCloud seed image (nocloud.ts) built in memory and streamed into a raw
 * volume; nothing touches the client's disk. The id is the volume's key.
 *
 * Every change of the data replaces the disk. Without a fixed `name` the volume is called
 * `<resource name>-<7 hex of a hash of the URN and the data>`: the same data keeps its name (no
 * diff, and preview shows the real name; a retried create finds what a failed one left under it),
 * new data gets a new name and path, so Pulumi creates the new disk
 * beside the old one, moves the domain over, and only then deletes the old one; a running guest
 * never has its cdrom deleted under it, and there is no "volume exists" failure. With a fixed
 * name the old disk has to go first (deleteBeforeReplace).
 */
import { Libvirt, RemoteNonnullStorageVol } from "../../rpc/internal";
import { UNKNOWN, nameBase } from "../kit/check";
import { deepEqual, sameHost } from "../kit/diff";
import { digest } from "../kit/naming";
import type { DiffResult, ResourceHandlers } from "../kit/resource";
import type { CloudInitDiskInputs, CloudInitDiskOutputs } from "../kit/generated/types";
import { deleteVolumeByKey, existingVolume, runningPool } from "../volume/storage";
import { createHoldingVolume, readWholeVolume } from "../volume/in-memory";
import { readVolumeXml } from "../volume/xml";
import { readVolumeOrGone, replaceIfMissing } from "../volume/presence";
import { findVolumeForGet } from "../volume/find";
import {
  NoCloudContents,
  NoCloudError,
  NoCloudSeed,
  buildNoCloudIso,
  partsDigest,
  readNoCloudIso,
} from "./nocloud";

const CONTENT = ["userData", "metaData", "networkConfig", "vendorData"] as const;

export const cloudInitDiskHandlers: ResourceHandlers<CloudInitDiskInputs, CloudInitDiskOutputs> = {
  check(inputs) {
    if (CONTENT.some((key) => inputs[key] === UNKNOWN)) return [];
    const userData = userDataProblem(inputs.userData);
    if (userData) return [{ property: "userData", reason: userData }];
    try {
      buildNoCloudIso(seedOf(inputs));
      return [];
    } catch (error) {
      // The seed builder's own refusals are about meta-data (its instance-id).
      const property = error instanceof NoCloudError ? "metaData" : "";
      return [{ property, reason: `cannot build the seed image: ${(error as Error).message}` }];
    }
  },

  async diff(id, olds, news, ctx) {
    const result = diffCloudInitDisk(olds, news);
    return replaceIfMissing(result, id, olds, ctx, `cloud-init disk ${olds.name}`);
  },

  async create(inputs, ctx) {
    const lv = await ctx.connect(inputs.host);
    const pool = await runningPool(lv, inputs.pool);
    const { image, instanceId } = buildNoCloudIso(seedOf(inputs));
    const content = {
      name: diskName(inputs)!,
      host: inputs.host,
      data: image,
      derivedName: inputs.name === undefined,
      hint: inputs.name
        ? ""
        : " (does another stack put a disk with the same resource name and data in this pool? then set name)",
    };
    return createHoldingVolume(lv, pool, content, ctx, async (vol) => ({
      id: vol.key,
      outs: await describe(lv, vol, inputs, instanceId),
    }));
  },

  // The data and the instance-id live only in the image: a get downloads and reads it.
  async get(id, state, ctx) {
    const lv = await ctx.connect(state.host);
    const vol = await findVolumeForGet(lv, id, "cloud-init disk", state.pool);
    const { instanceId, ...parts } = await readSeed(lv, vol);
    const carried = { host: state.host, pool: vol.pool, ...parts };
    return { id: vol.key, outs: await describe(lv, vol, carried, instanceId) };
  },

  read: (id, props, ctx) =>
    readVolumeOrGone(id, props, ctx, (lv, vol) => describe(lv, vol, props, props.instanceId)),

  // diff replaces the disk on every change, so an update only reports the disk as it is.
  async update(id, olds, news, ctx) {
    const { lv, vol } = await existingVolume(id, news, ctx, `cloud-init disk ${olds.name}`);
    return describe(lv, vol, news, olds.instanceId);
  },

  delete: deleteVolumeByKey,
};

/** Every change of the data or place replaces the disk; the same data keeps its name. */
export function diffCloudInitDisk(
  olds: CloudInitDiskOutputs,
  news: CloudInitDiskInputs,
): DiffResult {
  const replaces: string[] = [];
  for (const key of ["pool", ...CONTENT] as const) {
    if (news[key] === UNKNOWN || !deepEqual(olds[key], news[key])) replaces.push(key);
  }
  if (!sameHost(olds.host, news.host)) replaces.push("host");
  // A derived name changes with the data (a replacement anyway) and with the URN (a renamed stack
  // or project, an alias): while the data, pool and host stay, so do the disk and its name, as for
  // a disk made before names carried the URN. A name the user sets is compared as it is.
  const given = news.name !== undefined && news.name !== null;
  const sameName = given ? diskName(news) === olds.name : replaces.length === 0;
  if (!sameName) replaces.push("name");
  const sameHome = news.pool === olds.pool && sameHost(news.host, olds.host) && sameName;
  return {
    changes: replaces.length > 0,
    replaces,
    deleteBeforeReplace: replaces.length > 0 && sameHome,
  };
}

/**
 * The starts of user data cloud-init acts on (its user-data formats), as cloud-init compares them:
 * after leading whitespace, in lower case. User data starting otherwise is silently ignored by the
 * guest, unless it is MIME (cloud-init looks for a `MIME-Version:` header in its first 4096 bytes).
 */
const USER_DATA_STARTS = [
  "#cloud-config",
  "#!",
  "#include",
  "#cloud-boothook",
  "#part-handler",
  "#upstart-job",
  "## template: jinja",
  "content-type:",
];

/** Why the guest would ignore `userData`, or undefined. Never quotes it: it is a secret. */
function userDataProblem(userData: string): string | undefined {
  if (typeof userData !== "string") return undefined;
  const start = userData.trimStart().toLowerCase();
  if (USER_DATA_STARTS.some((known) => start.startsWith(known))) return undefined;
  if (userData.slice(0, 4096).toLowerCase().includes("mime-version:")) return undefined;
  return "userData does not start with a line cloud-init acts on, so the guest would ignore it: start it with #cloud-config (YAML) or #! (a script)";
}

function seedOf(inputs: CloudInitDiskInputs): NoCloudSeed {
  return {
    userData: inputs.userData,
    metaData: inputs.metaData,
    networkConfig: inputs.networkConfig,
    vendorData: inputs.vendorData,
  };
}

/**
 * The given name, or `<resource name>-<7 hex>` of the resource's URN and the data (of the data
 * alone without a URN); undefined while the data is unknown. The URN keeps two stacks with the
 * same program apart, and makes the name the mark of the disk (resources/kit/owner.ts).
 */
export function diskName(inputs: CloudInitDiskInputs): string | undefined {
  if (inputs.name !== undefined && inputs.name !== null) {
    return inputs.name === UNKNOWN ? undefined : inputs.name;
  }
  if (CONTENT.some((key) => inputs[key] === UNKNOWN)) return undefined;
  const { __logicalName: logicalName, __urn: urn } = inputs as unknown as Record<string, unknown>;
  const digits =
    typeof urn === "string" ? digest(urn, contentHash(inputs)) : contentHash(inputs).slice(0, 7);
  return `${nameBase(String(logicalName ?? "cloud-init"), "cloud-init")}-${digits}`;
}

/**
 * SHA-256 over the parts, each preceded by its name and byte length, so that moving bytes from one
 * part to another changes it. Part of every derived name: it must never change between versions.
 */
export function contentHash(inputs: CloudInitDiskInputs): string {
  return partsDigest(CONTENT.map((key) => [key, inputs[key]]));
}

/** Seed images are kilobytes; a volume far larger is not one, and is not read into memory. */
const MAX_SEED_BYTES = 64 * 1024 * 1024;

/** The parts of the seed image in `vol`; fails saying why a volume is not a seed image. */
async function readSeed(lv: Libvirt, vol: RemoteNonnullStorageVol): Promise<NoCloudContents> {
  const { capacity } = readVolumeXml((await lv.StorageVolGetXMLDesc({ vol, flags: 0 })).xml);
  const notASeed = (why: string) =>
    new Error(
      `volume ${vol.name} in storage pool ${vol.pool} is not a cloud-init seed image: ${why}`,
    );
  if (capacity > MAX_SEED_BYTES) {
    throw notASeed(
      `it is ${capacity} bytes, and seed images are far smaller (at most ${MAX_SEED_BYTES / 2 ** 20} MiB here)`,
    );
  }
  const image = await readWholeVolume(lv, vol);
  try {
    return readNoCloudIso(image);
  } catch (error) {
    if (error instanceof NoCloudError) throw notASeed(error.message);
    throw error;
  }
}

async function describe(
  lv: Libvirt,
  vol: RemoteNonnullStorageVol,
  carried: CloudInitDiskInputs | CloudInitDiskOutputs,
  instanceId: string,
): Promise<CloudInitDiskOutputs> {
  const { path, capacity } = readVolumeXml((await lv.StorageVolGetXMLDesc({ vol, flags: 0 })).xml);
  return {
    name: vol.name,
    pool: vol.pool,
    host: carried.host,
    userData: carried.userData,
    metaData: carried.metaData,
    networkConfig: carried.networkConfig,
    vendorData: carried.vendorData,
    key: vol.key,
    path,
    size: capacity,
    instanceId,
  } satisfies CloudInitDiskOutputs;
}
