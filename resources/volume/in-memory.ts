/**
 * Volumes whose whole content is a small buffer built or read in memory (CloudInitDisk's seed
 * image, IgnitionConfig's and CombustionScript's file): a raw volume exactly as large as the
 * content, uploaded with the upload mark (upload-mark.ts), and read back whole.
 */
import { Writable } from "node:stream";
import type {
  Libvirt,
  RemoteNonnullStoragePool,
  RemoteNonnullStorageVol,
} from "../../rpc/internal";
import { downloadVolume } from "../../transfer";
import type { ResourceContext } from "../kit/resource";
import { createFilledVolume } from "./storage";
import { uploadMarked } from "./upload-mark";
import { buildVolumeXml } from "./xml";

export interface HeldContent {
  name: string;
  host?: string;
  data: Buffer;
  /** The user left the name to virtwire (`name` unset). */
  derivedName: boolean;
  /** Added to the message when the name is taken. */
  hint: string;
}

/** Creates raw volume `content.name` in `pool` holding exactly `content.data`, then `describe`s it. */
export function createHoldingVolume<T>(
  lv: Libvirt,
  pool: RemoteNonnullStoragePool,
  content: HeldContent,
  ctx: ResourceContext,
  describe: (vol: RemoteNonnullStorageVol) => Promise<T>,
): Promise<T> {
  const { name, host, data } = content;
  const volume = {
    xml: buildVolumeXml({ name, capacity: data.length, format: "raw" }),
    name,
    host,
    derivedName: content.derivedName && ctx.owner !== undefined,
    hint: content.hint,
    mark: { owner: ctx.owner?.mark, present: false },
  };
  return createFilledVolume(lv, pool, volume, ctx, async (vol) => {
    await uploadMarked(lv, vol, once(data), volume.mark, data.length);
    return describe(vol);
  });
}

/** Every byte of `vol` (the caller checked that it is small). */
export async function readWholeVolume(lv: Libvirt, vol: RemoteNonnullStorageVol): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  await downloadVolume(lv, vol, sink);
  return Buffer.concat(chunks);
}

async function* once(data: Buffer): AsyncGenerator<Buffer> {
  yield data;
}
