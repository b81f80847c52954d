/**
 * The Volume's check and diff rules beyond the schema: one content source at a time, what an
 * overlay may be, which changes replace the volume and which grow it, and why it never shrinks.
 */
import { UNKNOWN, replacementAutoName } from "../kit/check";
import { deepEqual, sameHost } from "../kit/diff";
import type { CheckFailure, DiffResult } from "../kit/resource";
import { formatSize, parseSize } from "../kit/units";
import type { VolumeInputs, VolumeOutputs } from "../kit/generated/types";
import { formatClass } from "./xml";

const set = (value: unknown) => value !== undefined && value !== null && value !== "";
const known = (value: unknown) => set(value) && value !== UNKNOWN;

/**
 * Whether a source file exists is not checked here: check runs on every update, and a volume
 * uploaded long ago from a file on another machine must not block it. preflight.ts looks at a new
 * or changed source.path (so a preview reports a missing file), and create at any source.
 */
export function checkVolume(inputs: VolumeInputs): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const fail = (property: string, reason: string) => failures.push({ property, reason });
  const { source, baseVolume } = inputs;
  if (source) {
    if (set(source.path) && set(source.url)) {
      fail("source", "source takes a path or a url, not both");
    } else if (!set(source.path) && !set(source.url)) {
      fail("source", "source needs a path (a file on this machine) or a url");
    }
    if (known(source.url) && !URL.canParse(source.url!)) {
      fail("source.url", `source.url ${JSON.stringify(source.url)} is not a valid URL`);
    }
    if (baseVolume) {
      fail(
        "baseVolume",
        "a volume is either uploaded (source) or an overlay on a base volume (baseVolume), not both",
      );
    }
  }
  if (baseVolume) {
    const byKey = set(baseVolume.key);
    const byName = set(baseVolume.pool) || set(baseVolume.name);
    if (byKey && byName) {
      fail("baseVolume", "baseVolume takes a key, or a pool and a name, not both");
    } else if (!byKey && !(set(baseVolume.pool) && set(baseVolume.name))) {
      fail(
        "baseVolume",
        "baseVolume needs a key (e.g. base.key), or both pool and name of the base volume",
      );
    }
    if (inputs.format === "raw") {
      fail(
        "format",
        'an overlay on a base volume is a qcow2 image: set format to "qcow2" or leave it out',
      );
    }
  }
  if (inputs.encryption && (source || inputs.cloneOf)) {
    fail(
      "encryption",
      source
        ? "an uploaded volume cannot be encrypted by libvirt (the uploaded bytes are written as they are): upload an image that is encrypted already, or copy the data in from the guest"
        : "a copy (cloneOf) cannot be encrypted by libvirt (it copies the bytes as they are): leave encryption out, or make an empty encrypted volume",
    );
  }
  if (inputs.cloneOf && (source || baseVolume)) {
    fail(
      "cloneOf",
      "a volume is a copy of another volume (cloneOf), uploaded (source) or an overlay (baseVolume): one of them, not several",
    );
  }
  if (!source && !baseVolume && !inputs.cloneOf && !set(inputs.capacity)) {
    fail(
      "capacity",
      'capacity is required for an empty volume (e.g. "20GiB"); a volume with source, baseVolume or cloneOf takes the image\'s size',
    );
  }
  if (known(inputs.capacity) && parseSize(inputs.capacity) === 0) {
    fail("capacity", "capacity must be more than 0 bytes");
  }
  return failures;
}

/** The format a volume made from these inputs gets; undefined: the uploaded image's format. */
export function expectedFormat(inputs: VolumeInputs): "raw" | "qcow2" | undefined {
  if (inputs.format) return inputs.format;
  if (inputs.baseVolume) return "qcow2";
  // A clone keeps the original's format unless told otherwise.
  return inputs.source || inputs.cloneOf ? undefined : "raw";
}

/**
 * `refusing`: a capacity below the volume's fails the diff (at preview); false for the diff a
 * refresh asks for, which only shows what changed (the volume grew outside Pulumi).
 */
export function diffVolume(olds: VolumeOutputs, news: VolumeInputs, refusing = true): DiffResult {
  const replaces: string[] = [];
  for (const name of ["name", "pool", "baseVolume", "cloneOf", "encryption"] as const) {
    if (changed(olds[name], news[name])) replaces.push(name);
  }
  if (!sameHost(olds.host, news.host)) replaces.push("host");
  const format: string | undefined = expectedFormat(news);
  if (format === UNKNOWN || (format !== undefined && format !== formatClass(olds.format))) {
    replaces.push("format");
  }
  const source = sourceChange(olds, news);
  if (source === "replace") replaces.push("source");

  let grows = false;
  if (replaces.length === 0 && set(news.capacity)) {
    const wanted = parseSize(news.capacity);
    if (news.capacity === UNKNOWN || wanted === undefined) grows = true;
    else if (wanted > olds.capacity) grows = true;
    // libvirt hands qemu-img the size in whole KiB, rounded up: what was asked for, not a shrink.
    else if (wanted < olds.capacity && Math.ceil(wanted / 1024) * 1024 < olds.capacity) {
      if (refusing) throw new Error(shrinkMessage(wanted, olds.capacity, isAutoNamed(news)));
      grows = true; // (a change all the same)
    }
  }

  // What a later delete does; a volume made before wipeOnDelete existed is not wiped.
  const wipe = (olds.wipeOnDelete ?? "none") !== (news.wipeOnDelete ?? "none");

  return {
    changes: replaces.length > 0 || grows || source === "update" || wipe,
    replaces,
    changed: [
      ...replaces,
      ...(grows ? ["capacity"] : []),
      ...(source === "update" ? ["source"] : []),
      ...(wipe ? ["wipeOnDelete"] : []),
    ],
    // A replacement under the same name in the same pool: the old volume must go first.
    deleteBeforeReplace: replaces.length > 0 && replacementKeepsName(olds, news),
  };
}

/**
 * Whether a replacement would have the old volume's name, pool and host. A fixed name is kept; an
 * auto-name is derived again from the new inputs (the engine checks a replacement afresh), which
 * is the old name when nothing it is derived from changed.
 */
function replacementKeepsName(olds: VolumeOutputs, news: VolumeInputs): boolean {
  const inputs = news as unknown as Record<string, unknown>;
  const name = isAutoNamed(news) ? replacementAutoName("Volume", inputs, "name") : news.name;
  return name === olds.name && news.pool === olds.pool && sameHost(news.host, olds.host);
}

/** Whether virtwire chose the volume's name (the engine's check marks it), not the program. */
export function isAutoNamed(inputs: VolumeInputs): boolean {
  return (inputs as unknown as Record<string, unknown>).__autoNamed === "name";
}

/**
 * A smaller capacity is refused. To recreate the volume smaller: an auto-named one replaced with
 * `pulumi up --replace` gets a new name from the new capacity and is made beside the old one; a
 * fixed name is kept, so the old volume would have to go first (which --replace never does unless
 * the resource option says so): a new name is the way that keeps the old one until a Domain moved.
 */
export function shrinkMessage(wanted: number, current: number, autoNamed: boolean): string {
  const recreate = autoNamed
    ? "or recreate the volume smaller: pulumi up --replace <urn> makes the smaller volume under a new name beside this one, and deletes this one after the Domains that use it moved over"
    : "or recreate the volume smaller under another name: the new volume is made beside this one, and this one is deleted after the Domains that use it moved over";
  return `capacity ${formatSize(wanted)} (${wanted} bytes) is smaller than the volume's current ${formatSize(current)} (${current} bytes): a volume only grows, since shrinking would cut off its data. Set capacity to at least ${current}, ${recreate}`;
}

function changed(old: unknown, value: unknown): boolean {
  if (value === UNKNOWN) return true;
  return !deepEqual(old, value);
}

/**
 * Another path or URL replaces the volume, unless source.sha256 says the content is what was
 * uploaded (a mirror, a freshly signed link): then only the recorded source is updated. A sha256
 * replaces the volume only if it differs from the digest of what was uploaded, so adding the digest
 * of the current content changes nothing.
 */
function sourceChange(olds: VolumeOutputs, news: VolumeInputs): "replace" | "update" | "same" {
  const old = olds.source;
  const source = news.source;
  if (!old || !source) return Boolean(old) !== Boolean(source) ? "replace" : "same";
  const moved = changed(old.path, source.path) || changed(old.url, source.url);
  if (!set(source.sha256)) return moved ? "replace" : "same";
  if (source.sha256 === UNKNOWN) return "replace";
  const digest = source.sha256!.toLowerCase();
  const uploaded = olds.contentSha256 ?? old.sha256?.toLowerCase();
  if (digest !== uploaded) return "replace";
  return moved || digest !== old.sha256?.toLowerCase() ? "update" : "same";
}
