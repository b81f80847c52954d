/**
 * The cloud-init NoCloud seed image: an ISO 9660 volume labelled `cidata` whose root holds
 * `user-data`, `meta-data` and optionally `network-config` and `vendor-data`. cloud-init finds it
 * by label (`cidata` or `CIDATA`, matched exactly by blkid) and mounts it as iso9660; Linux reads the
 * hyphenated lower-case names from Rock Ridge.
 *
 * meta-data always carries an `instance-id`: cloud-init runs its per-instance modules again when the
 * id changes, so unless the caller gives one we derive it from the content (a changed seed is a new
 * instance).
 */
import { createHash } from "node:crypto";
import type * as Iso9660Writer from "./iso9660";
import type { IsoFile } from "./iso9660";
import type * as Iso9660Reader from "./iso9660-read";
import type * as Iso9660Fields from "./iso9660-fields";

/*
 * The ISO 9660 writer and reader are loaded on first use, not with the provider: a program's
 * `require("virtwire")` and a plugin that serves no CloudInitDisk never build or read an image.
 * A static import would load them with this module; require() in these functions defers it.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const writer = (): typeof Iso9660Writer => require("./iso9660") as typeof Iso9660Writer;
const reader = (): typeof Iso9660Reader => require("./iso9660-read") as typeof Iso9660Reader;
const fields = (): typeof Iso9660Fields => require("./iso9660-fields") as typeof Iso9660Fields;
/* eslint-enable @typescript-eslint/no-require-imports */

/** The label cloud-init's NoCloud datasource looks for (lower-case, as genisoimage -V cidata). */
export const NOCLOUD_VOLUME_ID = "cidata";

/** Thrown for seeds that would not give the guest a usable instance-id. */
export class NoCloudError extends Error {
  override name = "NoCloudError";
}

export interface NoCloudSeed {
  /** `user-data`: #cloud-config YAML, a script, a MIME multipart, … (recorded unchanged). */
  userData: string | Buffer;
  /** `meta-data`: YAML (or JSON). `instance-id` is added unless it has one at the top level. */
  metaData?: string;
  /** `network-config`: network configuration version 1 or 2 YAML. */
  networkConfig?: string | Buffer;
  /** `vendor-data`. */
  vendorData?: string | Buffer;
  /** Every date the image records; default 1970-01-01T00:00:00Z. */
  timestamp?: Date;
}

export interface NoCloudImage {
  /** The ISO 9660 image, ready to upload as a raw volume and attach as a cdrom. */
  image: Buffer;
  /** The instance-id the guest will see: the caller's, or `iid-` + 16 hex digits of content hash. */
  instanceId: string;
  /** The meta-data as recorded in the image. */
  metaData: string;
}

/** Builds the seed image. Same inputs, same bytes and the same instance-id. */
export function buildNoCloudIso(seed: NoCloudSeed): NoCloudImage {
  const given = seed.metaData ?? "";
  const existing = topLevelInstanceId(given);
  if (existing === "") {
    throw new NoCloudError(
      "meta-data has an empty instance-id: give it a value, or remove the line to have one derived",
    );
  }
  const instanceId = existing ?? derivedInstanceId(seed);
  const metaData = existing === undefined ? withInstanceId(given, instanceId) : given;
  const files: IsoFile[] = [
    { name: "user-data", data: bytes(seed.userData) },
    { name: "meta-data", data: Buffer.from(metaData, "utf8") },
  ];
  if (seed.networkConfig !== undefined) {
    files.push({ name: "network-config", data: bytes(seed.networkConfig) });
  }
  if (seed.vendorData !== undefined) {
    files.push({ name: "vendor-data", data: bytes(seed.vendorData) });
  }
  const image = writer().buildIso9660({
    volumeId: NOCLOUD_VOLUME_ID,
    files,
    timestamp: seed.timestamp,
  });
  return { image, instanceId, metaData };
}

/** The parts of a seed image, as readNoCloudIso finds them. */
export interface NoCloudContents {
  userData: string;
  /** As recorded: with the `instance-id` line buildNoCloudIso added. */
  metaData: string;
  networkConfig?: string;
  vendorData?: string;
  /** The instance-id the guest sees: the meta-data's, else cloud-init's default. */
  instanceId: string;
}

/**
 * The instance-id cloud-init's NoCloud datasource uses when the meta-data sets none (the
 * `defaults` of cloudinit/sources/DataSourceNoCloud.py); images from other tools may lack one.
 */
export const CLOUD_INIT_DEFAULT_INSTANCE_ID = "nocloud";

/**
 * The parts of a NoCloud seed image (ours, or one of genisoimage/cloud-localds), as cloud-init
 * finds them: label `cidata` (either case), `user-data` and `meta-data` in the root. Throws a
 * NoCloudError saying why for any other image.
 */
export function readNoCloudIso(image: Buffer): NoCloudContents {
  let volumeId: string;
  let files: Map<string, Buffer>;
  try {
    ({ volumeId, files } = reader().readIso9660(image));
  } catch (error) {
    if (!(error instanceof fields().Iso9660Error)) throw error;
    throw new NoCloudError(`it is not an ISO 9660 image that virtwire can read: ${error.message}`);
  }
  if (volumeId.toLowerCase() !== NOCLOUD_VOLUME_ID) {
    throw new NoCloudError(`its ISO 9660 label is ${JSON.stringify(volumeId)}, not cidata`);
  }
  const text = (name: string) => files.get(name)?.toString("utf8");
  const [userData, metaData] = [text("user-data"), text("meta-data")];
  if (userData === undefined || metaData === undefined) {
    const missing = userData === undefined ? "user-data" : "meta-data";
    throw new NoCloudError(`it has no ${missing} file`);
  }
  return {
    userData,
    metaData,
    networkConfig: text("network-config"),
    vendorData: text("vendor-data"),
    instanceId: topLevelInstanceId(metaData) ?? CLOUD_INIT_DEFAULT_INSTANCE_ID,
  };
}

function bytes(content: string | Buffer): Buffer {
  return typeof content === "string" ? Buffer.from(content, "utf8") : content;
}

/**
 * `iid-` + the first 16 hex digits of SHA-256 over every part, each preceded by its name and byte
 * length so that moving bytes from one part to another changes the id.
 */
export function derivedInstanceId(seed: NoCloudSeed): string {
  const digest = partsDigest([
    ["user-data", seed.userData],
    ["network-config", seed.networkConfig],
    ["meta-data", seed.metaData],
    ["vendor-data", seed.vendorData],
  ]);
  return `iid-${digest.slice(0, 16)}`;
}

/**
 * SHA-256 (hex) over the parts given, in order, each preceded by its name and byte length; parts
 * that are undefined or null are skipped.
 */
export function partsDigest(parts: [string, string | Buffer | undefined | null][]): string {
  const hash = createHash("sha256");
  for (const [name, content] of parts) {
    if (content === undefined || content === null) continue;
    const data = bytes(content);
    hash.update(`${name}\0${data.length}\0`).update(data);
  }
  return hash.digest("hex");
}

/** A top-level `instance-id:` line (unindented, key optionally quoted) and its value. */
const INSTANCE_ID_LINE = /^(["']?)instance-id\1[ \t]*:[ \t]*(.*)$/m;

/**
 * The instance-id the meta-data sets at its top level, or undefined. Plain YAML only: a value in
 * quotes loses them, a trailing ` # comment` goes. A JSON object's "instance-id" member counts too.
 */
export function topLevelInstanceId(metaData: string): string | undefined {
  const json = jsonObject(metaData);
  if (json) {
    const value = json["instance-id"];
    return value === undefined || value === null ? undefined : String(value);
  }
  const match = INSTANCE_ID_LINE.exec(metaData);
  if (!match) return undefined;
  const value = (match[2] ?? "").replace(/\s+#.*$/, "").trim();
  const quoted = /^(["'])(.*)\1$/.exec(value);
  return quoted ? quoted[2] : value;
}

/**
 * meta-data with `instance-id: <id>` added as its first key: after a leading `---` document marker
 * (and the comments and directives before it) when there is one, since a key before the marker would
 * make a second YAML document; into the object when the meta-data is JSON.
 */
export function withInstanceId(metaData: string, instanceId: string): string {
  const json = jsonObject(metaData);
  if (json) return `${JSON.stringify({ "instance-id": instanceId, ...json }, null, 2)}\n`;
  const line = `instance-id: ${instanceId}\n`;
  const lines = metaData.split("\n");
  const marker = lines.findIndex((text) => !/^\s*(#.*|%.*)?$/.test(text));
  if (marker >= 0 && /^---(\s|$)/.test(lines[marker] ?? "")) {
    const rest = (lines[marker] ?? "").slice(3).trim();
    if (rest === "") {
      const head = lines.slice(0, marker + 1).join("\n");
      const tail = lines.slice(marker + 1).join("\n");
      return `${head}\n${line}${tail}`;
    }
  }
  // A `--- value` line or top-level flow YAML would still need a hand-written instance-id.
  return metaData.trim() === "" ? line : line + metaData;
}

/** The meta-data as a JSON object, if it is one; YAML that merely starts with "{" is left as text. */
function jsonObject(metaData: string): Record<string, unknown> | undefined {
  if (!metaData.trimStart().startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(metaData);
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
