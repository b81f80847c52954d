/**
 * diff(): compares what the user asked for with what the resource last reported, property by
 * property, so only real changes show up: `__provider` and internal fields are ignored, sizes are
 * compared in bytes ("1GiB" equals 1073741824), and properties the user never set are not compared.
 * A change to a `replaceOnChanges` property replaces the resource; any other change is an update.
 */
import type { PropertySchema } from "./schema-types";
import { UNKNOWN, resourceSchema } from "./check";
import type { ChangeClass, DiffResult } from "./resource";
import { parseSize } from "./units";

export function schemaDiff(
  kind: string,
  oldOutputs: object,
  newInputs: object,
): DiffResult & { changed: string[] } {
  const resource = resourceSchema(kind);
  const olds = oldOutputs as Record<string, unknown>;
  const news = newInputs as Record<string, unknown>;
  const changed: string[] = [];
  const replaces: string[] = [];
  for (const [name, property] of Object.entries(resource.inputProperties)) {
    if (
      name === "host"
        ? sameHost(olds[name], news[name])
        : sameValue(property, olds[name], news[name])
    )
      continue;
    changed.push(name);
    if (property.replaceOnChanges) replaces.push(name);
  }
  return { changes: changed.length > 0, replaces, changed };
}

function sameValue(property: PropertySchema, old: unknown, value: unknown): boolean {
  if (value === UNKNOWN) return false;
  if (isUnset(old) && isUnset(value)) return true;
  if (property.language?.virtwire?.units === "bytes") return parseSize(old) === parseSize(value);
  return deepEqual(old, value);
}

/**
 * Whether two `host` inputs name the same host: unset, "" and "default" all name the default host
 * (config.ts hostSettings), so going from one to another changes nothing (found by the
 * generated-inputs test: a cloud-init disk was replaced, new one first, and its name was taken).
 */
export function sameHost(a: unknown, b: unknown): boolean {
  if (a === UNKNOWN || b === UNKNOWN) return false;
  const name = (host: unknown) => (isUnset(host) || host === "" || host === "default" ? "" : host);
  return name(a) === name(b);
}

function isUnset(value: unknown): boolean {
  return value === undefined || value === null;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isUnset(a) && isUnset(b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, index) => deepEqual(item, b[index]));
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    if (!deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
      return false;
  }
  return true;
}

/**
 * "Preserve user intent" for read(): of the state libvirt reports, keep only the input properties
 * the user had set (and every output-only property), so defaults libvirt fills in never cause a
 * diff. Nested objects keep only the keys the user had set.
 */
export function preserveUserIntent<T extends object>(
  kind: string,
  previousState: object,
  actual: T,
): T {
  const resource = resourceSchema(kind);
  const previous = previousState as Record<string, unknown>;
  const result: Record<string, unknown> = { ...(actual as Record<string, unknown>) };
  for (const name of Object.keys(resource.inputProperties)) {
    result[name] = intent(previous[name], (actual as Record<string, unknown>)[name]);
  }
  return result as T;
}

function intent(previous: unknown, actual: unknown): unknown {
  if (isUnset(previous)) return undefined;
  if (
    typeof previous === "object" &&
    !Array.isArray(previous) &&
    typeof actual === "object" &&
    actual !== null &&
    !Array.isArray(actual)
  ) {
    const kept: Record<string, unknown> = {};
    for (const key of Object.keys(previous as object)) {
      kept[key] = intent(
        (previous as Record<string, unknown>)[key],
        (actual as Record<string, unknown>)[key],
      );
    }
    return kept;
  }
  return actual;
}

/**
 * Each changed top-level property of a diff and how its change is applied: the kind's own
 * classes, else `replace` for what replaces the object and `live` for any other change (a Network's
 * DHCP hosts, a Pool's autostart, a Volume's growth are all applied in place).
 */
export function changeClasses(result: DiffResult): Record<string, ChangeClass> {
  if (result.classes) return { ...result.classes };
  const classes: Record<string, ChangeClass> = {};
  for (const property of result.changed ?? []) classes[property] = "live";
  for (const property of result.replaces) classes[property] = "replace";
  return classes;
}

/** `addresses [replace]; dnsHosts [live]`: the classes as a preview line shows them. */
export function classesLine(classes: Record<string, ChangeClass>): string {
  return Object.entries(classes)
    .map(([property, cls]) => `${property} [${cls}]`)
    .join("; ");
}
