/**
 * Pool rules beyond the schema: the source each pool type needs, and no source field a type does
 * not use. libvirt drops such a field from the pool's description without a word, so every later
 * `up` would see it changed and replace the pool (found by the generated-inputs test: a dir pool
 * with a `source`). The fields per type are those libvirt's storage_conf.c keeps for it; the
 * formats those its backends accept.
 */
import type { CheckFailure } from "../kit/resource";
import type { PoolInputs, PoolSource, PoolType } from "../kit/generated/types";

const SOURCE_FIELDS: Record<PoolType, readonly (keyof PoolSource)[]> = {
  dir: [],
  fs: ["devices", "format"],
  netfs: ["host", "dir", "format"],
  logical: ["name", "devices", "format"],
  disk: ["devices", "format"],
  iscsi: ["host", "devices"],
};

const FORMATS: Partial<Record<PoolType, readonly string[]>> = {
  netfs: ["auto", "nfs", "glusterfs", "cifs"],
  logical: ["lvm2"],
  disk: ["dos", "gpt", "dvh", "mac", "bsd", "pc98", "sun"],
};

export function checkPool(inputs: PoolInputs): CheckFailure[] {
  const { type, source } = inputs;
  const needs = needed(type, source);
  if (needs) return [needs];
  const used = SOURCE_FIELDS[type] ?? Object.keys(source ?? {});
  const failures = Object.entries(source ?? {})
    .filter(([key, value]) => isSet(value) && !used.includes(key as keyof PoolSource))
    .map(([key]) => ({
      property: `source.${key}`,
      reason:
        used.length === 0
          ? `source.${key}: a ${type} pool has no source (its volumes are files in targetPath): remove source`
          : `source.${key} is not used by a ${type} pool (it uses ${used.join(", ")}): remove it`,
    }));
  const formats = FORMATS[type];
  const format = source?.format;
  if (formats && format !== undefined && used.includes("format") && !formats.includes(format)) {
    failures.push({
      property: "source.format",
      reason: `a ${type} pool's format is one of ${formats.join(", ")}, not ${JSON.stringify(format)}: use one of those, or leave it out`,
    });
  }
  return failures;
}

/** The source fields a type cannot do without, as a failure naming them; undefined when given. */
function needed(type: PoolType, source: PoolSource | undefined): CheckFailure | undefined {
  const devices = source?.devices ?? [];
  if (type === "netfs" && (!source?.host || !source.dir))
    return {
      property: "source",
      reason: "a netfs pool needs source.host (the NFS server) and source.dir (the export)",
    };
  if ((type === "fs" || type === "logical" || type === "disk") && devices.length === 0)
    return {
      property: "source.devices",
      reason: `a ${type} pool needs source.devices (the block devices it uses)`,
    };
  if ((type === "fs" || type === "disk") && devices.length > 1)
    return {
      property: "source.devices",
      reason: `a ${type} pool uses one block device, not ${devices.length}: give one (a pool per disk)`,
    };
  if (type === "iscsi" && (!source?.host || devices.length !== 1))
    return {
      property: "source",
      reason:
        "an iscsi pool needs source.host (the portal) and source.devices with the one target IQN (iqn.2024-01.org.example:storage)",
    };
  return undefined;
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0);
}
