/**
 * Where the 7 hex digits of an auto-name (`<resource name>-<7 hex>`) come from. With the resource's
 * URN known (sdk/ passes it as `__urn`), they are derived from the URN and the inputs the program
 * gave, not drawn at random:
 *
 *   - a create retried after a failure, with the same program, picks the name the failed attempt
 *     picked, so what that attempt left behind is found under its name and removed (owner.ts);
 *   - a replacement has other inputs (that is what replaces it), so another name, and the new object
 *     can be made beside the old one;
 *   - another stack or project has other URNs, so other names on a shared host.
 *
 * Secret inputs are left out: a name is never a clue to a secret. Without a URN the digits are
 * random, as before.
 */
import { createHash, randomBytes } from "node:crypto";
import type { ResourceSchema } from "./schema-types";

/** Hidden inputs that identify the resource; other `__` inputs say nothing about the object. */
const IDENTITY = ["__kind", "__logicalName", "__urn"];

/** The 7 hex digits for a new auto-name of a resource with these (unchecked) inputs. */
export function nameDigits(
  resource: ResourceSchema,
  news: Record<string, unknown>,
  nameProperty: string,
): string {
  if (typeof news.__urn !== "string") return randomBytes(4).toString("hex").slice(0, 7);
  const parts: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(news)) {
    if (key === nameProperty || value === undefined || value === null) continue;
    if (key.startsWith("__") ? !IDENTITY.includes(key) : resource.inputProperties[key]?.secret) {
      continue;
    }
    parts[key] = value;
  }
  return digest(canonical(parts));
}

/** 7 hex digits of SHA-256 over `parts`, each ended by a NUL (no two lists give the same text). */
export function digest(...parts: string[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part).update("\0");
  return hash.digest("hex").slice(0, 7);
}

/** JSON with object keys sorted at every depth and unset values left out. */
export function canonical(value: unknown): string {
  return JSON.stringify(sorted(value));
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (typeof value !== "object" || value === null) return value;
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const item = (value as Record<string, unknown>)[key];
    if (item !== undefined && item !== null) result[key] = sorted(item);
  }
  return result;
}
