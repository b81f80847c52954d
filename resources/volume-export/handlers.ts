/**
 * VolumeExport: a volume's content downloaded into a local file when the resource is created
 * (transfer/'s downloadVolume with sparse streams: holes travel as holes and stay unallocated in
 * the file). The id is the file's absolute path. Every change replaces the resource (a new
 * download into a new file, the old file deleted; first when the path stays); a file already at the path is refused, so
 * nothing the user has is overwritten; delete removes the file. libvirt keeps no record of a
 * download, so there is nothing to get.
 */
import { rm, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { downloadVolume } from "../../transfer";
import { unlessNotFound } from "../kit/not-found";
import type { CheckFailure, ResourceHandlers } from "../kit/resource";
import type { VolumeExportInputs, VolumeExportOutputs } from "../kit/generated/types";
import { UNKNOWN } from "../kit/check";
import { schemaDiff } from "../kit/diff";
import type { Libvirt } from "../../rpc";

export const volumeExportHandlers: ResourceHandlers<VolumeExportInputs, VolumeExportOutputs> = {
  // Every input replaces (schema.json). The new file is made before the old one is deleted,
  // except when both are at one path: then the old file goes first, or the create would find it
  // there and refuse, at every up.
  diff(_id, olds, news) {
    const result = schemaDiff("VolumeExport", olds, news);
    const samePath = news.path !== UNKNOWN && resolve(news.path) === resolve(olds.path);
    return { ...result, deleteBeforeReplace: result.replaces.length > 0 && samePath };
  },

  async preflight(inputs, olds) {
    if (inputs.path === UNKNOWN || inputs.path === olds.path) return [];
    return fileProblems(inputs.path);
  },

  async create(inputs, ctx) {
    const [problem] = await fileProblems(inputs.path);
    if (problem) throw new Error(problem.reason);
    const lv = await ctx.connect(inputs.host);
    const vol = await findVolume(lv, inputs.volume);
    const path = resolve(inputs.path);
    ctx.status(`virtwire: downloading volume ${vol.name} into ${path}`);
    // exclusive: a file made at the path since the check above is refused, not overwritten. The
    // sink removes a file it created when the download fails.
    const result = await downloadVolume(lv, vol, path, { sparse: true, exclusive: true });
    ctx.log(
      `virtwire: volume ${vol.name} downloaded into ${path}: ${result.bytes} bytes, ${result.dataBytes} of them data`,
    );
    const outs = { ...carried(inputs), size: result.bytes, dataBytes: result.dataBytes };
    return { id: path, outs };
  },

  async get() {
    throw new Error(
      "a VolumeExport cannot be read from libvirt, which keeps no record of downloads: create one instead",
    );
  },

  // A file deleted (or emptied) by hand is gone: the next up downloads again.
  async read(id, props) {
    const found = await stat(id).catch(() => undefined);
    return found?.isFile() ? props : undefined;
  },

  async update(_id, olds) {
    return olds; // every input replaces (schema.json); nothing else can change
  },

  async delete(id) {
    await rm(id, { force: true });
  },
};

function carried(inputs: VolumeExportInputs) {
  return { volume: inputs.volume, path: inputs.path, host: inputs.host };
}

async function fileProblems(path: string): Promise<CheckFailure[]> {
  const full = resolve(path);
  const fail = (reason: string) => [{ property: "path", reason }];
  const code = await stat(full).then(
    () => "EEXIST",
    (error: NodeJS.ErrnoException) => error.code ?? "EIO",
  );
  if (code === "EEXIST") {
    return fail(
      `${full} exists already, and a VolumeExport never overwrites a file: move it away or choose another path`,
    );
  }
  if (code !== "ENOENT") return fail(`${full} cannot be looked at (${code})`);
  const directory = await stat(dirname(full)).catch(() => undefined);
  if (!directory?.isDirectory()) {
    return fail(`the directory of ${full} does not exist: create it first`);
  }
  return [];
}

async function findVolume(lv: Libvirt, key: string) {
  const found =
    (await unlessNotFound(() => lv.StorageVolLookupByKey({ key }))) ??
    (await unlessNotFound(() => lv.StorageVolLookupByPath({ path: key })));
  if (!found) {
    throw new Error(
      `no volume has the key or path ${JSON.stringify(key)} (is its pool running?): pass a Volume's key, e.g. disk.key`,
    );
  }
  return found.vol;
}
