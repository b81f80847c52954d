/**
 * `Kind.get(name, id, state?)`: a read with nothing of the resource known before. Pulumi's Get
 * sends Read the id the user gave and, as the resource's properties, only what the program passed
 * (the hidden `__kind`, `__logicalName`, `__urn` and the `state` argument, e.g. `host`); a refresh
 * sends the outputs of the last create, update or read, which always hold the kind's output-only
 * properties (`uuid`, `key`, …). So a read without any of those reads from nothing: it finds the
 * object by what users know it by and reports its complete state, not only what a user had set.
 */
import { parseUuid } from "../../rpc";
import { unlessNotFound } from "./not-found";
import { schema } from "./generated/schema";

/** True when `props` hold no output-only property of the kind: a Get, not a refresh. */
export function readsFromNothing(kind: string, props: Record<string, unknown>): boolean {
  const resource = schema.resources[`virtwire:index:${kind}`];
  if (!resource) return false;
  return Object.keys(resource.properties)
    .filter((name) => !(name in resource.inputProperties))
    .every((name) => props[name] === undefined || props[name] === null);
}

/** What the program passed to a Get, without the hidden `__` keys. */
export function givenState(props: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(props).filter(([key, value]) => !key.startsWith("__") && value != null),
  );
}

/** True for libvirt's text form of a UUID (dashes optional), as virsh tells a UUID from a name. */
export function looksLikeUuid(text: string): boolean {
  return /^[0-9a-fA-F]{32}$/.test(text.replace(/-/g, ""));
}

/**
 * The object `id` names, by UUID first (when it looks like one), then by name, as virsh does;
 * undefined when neither finds one. libvirt names are unique per kind and host, so a name is never
 * ambiguous.
 */
export async function lookupByUuidOrName<T>(
  id: string,
  byUuid: (uuid: Buffer) => Promise<T>,
  byName: (name: string) => Promise<T>,
): Promise<T | undefined> {
  if (looksLikeUuid(id)) {
    const found = await unlessNotFound(() => byUuid(parseUuid(id)));
    if (found !== undefined) return found;
  }
  return unlessNotFound(() => byName(id));
}

/** Thrown by a get that finds nothing: names the kind, the id given and what it accepts. */
export class NotFoundError extends Error {
  override name = "NotFoundError";
  constructor(noun: string, id: string, accepted: string, hint = "") {
    super(`no ${noun} has the ${accepted} ${JSON.stringify(id)}${hint}`);
  }
}
