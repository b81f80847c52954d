/**
 * Pool rules beyond the schema: the source each pool type needs, and no source field a type does
 * not use. libvirt drops such a field from the pool's description without a word, so every later
 * `up` would see it changed and replace the pool (found by the generated-inputs test: a dir pool
 * with a `source`). The fields per type are those libvirt's storage_conf.c keeps for it.
 */
import type { CheckFailure } from "../kit/resource";
import type { PoolInputs, PoolSource, PoolType } from "../kit/generated/types";

const SOURCE_FIELDS: Record<PoolType, readonly (keyof PoolSource)[]> = {
  dir: [],
  fs: ["devices", "format"],
  netfs: ["host", "dir", "format"],
  logical: ["name", "devices", "format"],
};

export function checkPool(inputs: PoolInputs): CheckFailure[] {
  const { type, source } = inputs;
  if (type === "netfs" && (!source?.host || !source.dir)) {
    return [
      {
        property: "source",
        reason: "a netfs pool needs source.host (the NFS server) and source.dir (the export)",
      },
    ];
  }
  if ((type === "fs" || type === "logical") && !source?.devices?.length) {
    return [
      {
        property: "source.devices",
        reason: `a ${type} pool needs source.devices (the block devices it uses)`,
      },
    ];
  }
  const used = SOURCE_FIELDS[type] ?? Object.keys(source ?? {});
  return Object.entries(source ?? {})
    .filter(([key, value]) => isSet(value) && !used.includes(key as keyof PoolSource))
    .map(([key]) => ({
      property: `source.${key}`,
      reason:
        used.length === 0
          ? `source.${key}: a ${type} pool has no source (its volumes are files in targetPath): remove source`
          : `source.${key} is not used by a ${type} pool (it uses ${used.join(", ")}): remove it`,
    }));
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0);
}
