/**
 * A Volume's source.path, looked at on this machine before anything is made: it exists, is a file
 * that can be read, and its first bytes fit the inputs (content-rules.ts). Only a new or changed
 * path is looked at: a volume uploaded long ago from a file on another machine, or from a file
 * deleted since, must not fail the updates that follow (check runs on each of them).
 * A source.url is not fetched at preview.
 *
 * An overlay's base volume, when it exists already, is asked for its capacity: an overlay smaller
 * than its base is refused (found by the generated-inputs test, which saw it fail at up). Asked
 * when the base or the capacity is new or changed. The same for the original of a copy (cloneOf).
 */
import type { Stats } from "node:fs";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { UNKNOWN } from "../kit/check";
import { deepEqual } from "../kit/diff";
import type { CheckFailure, ResourceContext } from "../kit/resource";
import { parseSize } from "../kit/units";
import { FileReader } from "../../transfer";
import type { VolumeInputs } from "../kit/generated/types";
import { lookupBase, overlayTooSmall } from "./base";
import { cloneInUse, cloneTooSmall, lookupOriginal } from "./clone";
import { domainsUsing } from "./users";
import { contentProblem } from "./content-rules";
import { IMAGE_HEADER_BYTES } from "./image-format";

export async function preflightVolume(
  inputs: VolumeInputs,
  olds: Partial<VolumeInputs>,
  ctx: ResourceContext,
): Promise<CheckFailure[]> {
  return [
    ...(await preflightBase(inputs, olds, ctx)),
    ...(await preflightClone(inputs, olds, ctx)),
    ...(await preflightSource(inputs, olds)),
  ];
}

/**
 * As for an overlay: a copy smaller than its original (when that exists already) is refused, and
 * so is a new original a running guest writes to (clone.ts).
 */
async function preflightClone(
  inputs: VolumeInputs,
  olds: Partial<VolumeInputs>,
  ctx: ResourceContext,
): Promise<CheckFailure[]> {
  const original = inputs.cloneOf;
  const wanted = parseSize(inputs.capacity);
  if (!original || containsUnknown(original)) return [];
  const sameOriginal = deepEqual(original, olds.cloneOf);
  if (sameOriginal && (wanted === undefined || inputs.capacity === olds.capacity)) return [];
  const lv = await ctx.connect(inputs.host);
  const vol = await lookupOriginal(lv, original);
  if (!vol) return [];
  const failures: CheckFailure[] = [];
  if (!sameOriginal) {
    const writers = await domainsUsing(lv, vol, "running", { writing: true });
    if (writers.length > 0) {
      failures.push({ property: "cloneOf", reason: cloneInUse(original, writers) });
    }
  }
  const capacity = Number((await lv.StorageVolGetInfo({ vol })).capacity);
  if (wanted !== undefined && wanted < capacity) {
    failures.push({ property: "capacity", reason: cloneTooSmall(wanted, capacity) });
  }
  return failures;
}

async function preflightBase(
  inputs: VolumeInputs,
  olds: Partial<VolumeInputs>,
  ctx: ResourceContext,
): Promise<CheckFailure[]> {
  const base = inputs.baseVolume;
  const wanted = parseSize(inputs.capacity);
  if (!base || wanted === undefined || containsUnknown(base)) return [];
  if (deepEqual(base, olds.baseVolume) && inputs.capacity === olds.capacity) return [];
  const lv = await ctx.connect(inputs.host);
  const vol = await lookupBase(lv, base);
  if (!vol) return [];
  const { capacity } = await lv.StorageVolGetInfo({ vol });
  const problem = overlayTooSmall(wanted, Number(capacity));
  return problem ? [{ property: "capacity", reason: problem }] : [];
}

function containsUnknown(value: object): boolean {
  return Object.values(value).some((item) => item === UNKNOWN);
}

async function preflightSource(
  inputs: VolumeInputs,
  olds: Partial<VolumeInputs>,
): Promise<CheckFailure[]> {
  const path = inputs.source?.path;
  if (typeof path !== "string" || path === UNKNOWN || path === olds.source?.path) return [];
  if ([inputs.format, inputs.capacity].includes(UNKNOWN)) return [];
  const full = resolve(path);
  const shown = full === path ? path : `${path} (${full})`;
  const fail = (reason: string) => [
    { property: "source.path", reason: `source.path ${shown} ${reason}` },
  ];
  // stat before open: opening a named pipe waits for a writer, and a device never ends.
  const stats = await stat(full).catch((error: NodeJS.ErrnoException) => error);
  if (stats instanceof Error) return fail(openFailure(stats));
  if (stats.isDirectory()) return fail("is a directory: give the image file in it");
  if (!stats.isFile()) {
    return fail(
      `is ${specialKind(stats)}, not a regular file: give the path of an image file (a device or pipe cannot be uploaded as a volume)`,
    );
  }
  let file;
  try {
    file = await FileReader.open(full);
  } catch (error) {
    return fail(openFailure(error as NodeJS.ErrnoException));
  }
  try {
    const header = await file.head(IMAGE_HEADER_BYTES).catch((error) => {
      throw new Error(`reading source.path ${shown} failed: ${(error as Error).message}`);
    });
    const problem = contentProblem({ label: shown, header, size: stats.size }, inputs);
    return problem ? [problem] : [];
  } finally {
    await file.close();
  }
}

function openFailure(error: NodeJS.ErrnoException): string {
  if (error.code === "ENOENT") {
    return "does not exist on this machine: give the path of the image file on the machine that runs Pulumi, absolute or relative to the project directory";
  }
  if (error.code === "EACCES") {
    return "cannot be read: permission denied; make it readable to the user that runs Pulumi";
  }
  return `cannot be opened (${error.code ?? error.message})`;
}

/** What a file that is neither a regular file nor a directory is, in a user's words. */
export function specialKind(stats: Stats): string {
  if (stats.isFIFO()) return "a named pipe (FIFO)";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isSocket()) return "a socket";
  return "a special file";
}
