/**
 * IgnitionConfig and CombustionScript: a first-boot config (Fedora CoreOS/Flatcar's Ignition JSON,
 * openSUSE MicroOS's Combustion script) stored as a raw volume whose bytes are exactly the
 * content, for a Domain's `ignition` or `combustion` property, which gives the file to the guest
 * through QEMU's fw_cfg. As CloudInitDisk: nothing touches the client's disk, the id is the volume's
 * key, every change of the content replaces the volume, and without a fixed `name` the name
 * carries a hash of the URN and the content, so a new config is created beside the old one and the
 * old one deleted after the domain moved over.
 */
import { Libvirt, RemoteNonnullStorageVol } from "../../rpc/internal";
import { UNKNOWN, nameBase } from "../kit/check";
import { deepEqual, sameHost } from "../kit/diff";
import { digest } from "../kit/naming";
import type { CheckFailure, DiffResult, ResourceHandlers } from "../kit/resource";
import { deleteVolumeByKey, existingVolume, runningPool } from "../volume/storage";
import { createHoldingVolume, readWholeVolume } from "../volume/in-memory";
import { readVolumeXml } from "../volume/xml";
import { readVolumeOrGone, replaceIfMissing } from "../volume/presence";
import { findVolumeForGet } from "../volume/find";
import { createHash } from "node:crypto";

/** The inputs both kinds share; `K` is the name of the content's property. */
type Inputs<K extends string> = { name?: string; pool: string; host?: string } & Record<K, string>;
type Outputs<K extends string> = Inputs<K> & {
  name: string;
  key: string;
  path: string;
  size: number;
};

interface Kind<K extends string> {
  /** "Ignition config", for messages. */
  noun: string;
  /** The content's property: `content`, `script`. */
  property: K;
  /** The default name's base when the resource has none. */
  base: string;
  /** Why the guest would not use this content, or undefined. Never quotes it: it is a secret. */
  problem: (content: string) => string | undefined;
}

/** Configs are kilobytes; a volume far larger is not one, and is not read into memory. */
const MAX_BYTES = 16 * 1024 * 1024;

export function firstBootFileHandlers<K extends string>(
  kind: Kind<K>,
): ResourceHandlers<Inputs<K>, Outputs<K>> {
  const { property, noun } = kind;
  const nameOf = (inputs: Inputs<K>) => fileName(kind, inputs);
  return {
    check(inputs): CheckFailure[] {
      const content = inputs[property];
      if (content === UNKNOWN || typeof content !== "string") return [];
      if (Buffer.byteLength(content) > MAX_BYTES) {
        return [{ property, reason: `${property} is larger than ${MAX_BYTES / 2 ** 20} MiB` }];
      }
      const problem = kind.problem(content);
      return problem ? [{ property, reason: problem }] : [];
    },

    async diff(id, olds, news, ctx) {
      const replaces: string[] = [];
      for (const key of ["pool", property] as const) {
        if (news[key] === UNKNOWN || !deepEqual(olds[key], news[key])) replaces.push(key);
      }
      if (!sameHost(olds.host, news.host)) replaces.push("host");
      const given = news.name !== undefined && news.name !== null;
      const sameName = given ? nameOf(news) === olds.name : replaces.length === 0;
      if (!sameName) replaces.push("name");
      const sameHome = news.pool === olds.pool && sameHost(news.host, olds.host) && sameName;
      const result: DiffResult = {
        changes: replaces.length > 0,
        replaces,
        deleteBeforeReplace: replaces.length > 0 && sameHome,
      };
      return replaceIfMissing(result, id, olds, ctx, `${noun} ${olds.name}`);
    },

    async create(inputs, ctx) {
      const lv = await ctx.connect(inputs.host);
      const pool = await runningPool(lv, inputs.pool);
      const content = {
        name: nameOf(inputs)!,
        host: inputs.host,
        data: Buffer.from(inputs[property], "utf8"),
        derivedName: inputs.name === undefined,
        hint: inputs.name
          ? ""
          : ` (does another stack put a ${noun} with the same resource name and content in this pool? then set name)`,
      };
      return createHoldingVolume(lv, pool, content, ctx, async (vol) => ({
        id: vol.key,
        outs: await describe(lv, vol, inputs),
      }));
    },

    // The content lives only in the volume: a get downloads it.
    async get(id, state, ctx) {
      const lv = await ctx.connect(state.host);
      const vol = await findVolumeForGet(lv, id, noun, state.pool);
      const content = await readContent(lv, vol, noun);
      const carried = { host: state.host, pool: vol.pool, [property]: content } as Inputs<K>;
      return { id: vol.key, outs: await describe(lv, vol, carried) };
    },

    read: (id, props, ctx) =>
      readVolumeOrGone(id, props, ctx, (lv, vol) => describe(lv, vol, props)),

    // diff replaces the volume on every change, so an update only reports it as it is.
    async update(id, olds, news, ctx) {
      const { lv, vol } = await existingVolume(id, news, ctx, `${noun} ${olds.name}`);
      return describe(lv, vol, news);
    },

    delete: deleteVolumeByKey,
  };

  async function describe(lv: Libvirt, vol: RemoteNonnullStorageVol, carried: Inputs<K>) {
    const xml = (await lv.StorageVolGetXMLDesc({ vol, flags: 0 })).xml;
    const { path, capacity } = readVolumeXml(xml);
    return {
      name: vol.name,
      pool: vol.pool,
      host: carried.host,
      [property]: carried[property],
      key: vol.key,
      path,
      size: capacity,
    } as Outputs<K>;
  }
}

/**
 * The given name, or `<resource name>-<7 hex>` of the URN and the content (of the content alone
 * without a URN); undefined while the content is unknown.
 */
function fileName<K extends string>(kind: Kind<K>, inputs: Inputs<K>): string | undefined {
  if (inputs.name !== undefined && inputs.name !== null) {
    return inputs.name === UNKNOWN ? undefined : inputs.name;
  }
  const content = inputs[kind.property];
  if (content === UNKNOWN) return undefined;
  const hash = createHash("sha256").update(content).digest("hex");
  const { __logicalName: logicalName, __urn: urn } = inputs as unknown as Record<string, unknown>;
  const digits = typeof urn === "string" ? digest(urn, hash) : hash.slice(0, 7);
  return `${nameBase(String(logicalName ?? kind.base), kind.base)}-${digits}`;
}

async function readContent(lv: Libvirt, vol: RemoteNonnullStorageVol, noun: string) {
  const { capacity } = readVolumeXml((await lv.StorageVolGetXMLDesc({ vol, flags: 0 })).xml);
  if (capacity > MAX_BYTES) {
    throw new Error(
      `volume ${vol.name} in storage pool ${vol.pool} is not a ${noun}: it is ${capacity} bytes`,
    );
  }
  return (await readWholeVolume(lv, vol)).toString("utf8");
}
