/**
 * What libvirt's other storage pools say about a new Pool, asked read-only before anything is
 * made: libvirt refuses to define a pool on a directory another pool has ("Storage source
 * conflict with pool"). Asked when the target path is new or changed; the pool's own libvirt
 * object (its old name, on a replacement) is not held against it.
 */
import { UNKNOWN } from "../kit/check";
import { unlessNotFound } from "../kit/not-found";
import type { CheckFailure, ResourceContext } from "../kit/resource";
import type { PoolInputs } from "../kit/generated/types";
import { readPoolXml, sanitizePath } from "./xml";

export async function preflightPool(
  inputs: PoolInputs,
  olds: Partial<PoolInputs>,
  ctx: ResourceContext,
): Promise<CheckFailure[]> {
  const target = inputs.targetPath;
  if (target === UNKNOWN || target === olds.targetPath) return [];
  const own = new Set([inputs.name, olds.name].filter((name) => typeof name === "string"));
  const lv = await ctx.connect(inputs.host);
  const { pools } = await lv.ConnectListAllStoragePools({ need_results: 1, flags: 0 });
  for (const pool of pools.filter((pool) => !own.has(pool.name))) {
    // A pool removed meanwhile holds nothing.
    const described = await unlessNotFound(async () =>
      readPoolXml((await lv.StoragePoolGetXMLDesc({ pool, flags: 0 })).xml),
    );
    if (described && samePath(described.targetPath, target)) {
      return [
        {
          property: "targetPath",
          reason: `targetPath ${target} is already the target of libvirt's storage pool "${pool.name}": give this pool a directory of its own, or put volumes in "${pool.name}" (a Volume's pool)`,
        },
      ];
    }
  }
  return [];
}

function samePath(a: string, b: string): boolean {
  return sanitizePath(a) === sanitizePath(b);
}
