/**
 * check(): inputs validated against schema.json (types, enums, required, patterns, bounds, sizes)
 * before anything touches libvirt, each failure naming the property and the fix. Also fills in
 * defaults, those inside object inputs too, and auto-names (`<resource name>-<7 hex>`, kept stable
 * across updates; the same again when a failed create is retried, naming.ts): the result has the
 * kind's `Checked…Inputs` type (generated/checked.ts).
 */
import { randomBytes } from "node:crypto";
import { schema } from "./generated/schema";
import type { CheckedInputsByKind } from "./generated/checked";
import type { PropertySchema, ResourceSchema, TypeSchema } from "./schema-types";
import type { CheckFailure } from "./resource";
import { nameDigits } from "./naming";
import { closest } from "./suggest";
import { sizeProblem } from "./units";

/** The value Pulumi sends in preview for inputs not known yet. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function resourceSchema(kind: string): ResourceSchema {
  const resource = schema.resources[`virtwire:index:${kind}`];
  if (!resource) throw new Error(`virtwire has no resource kind ${JSON.stringify(kind)}`);
  return resource;
}

function typeOf(ref: string): TypeSchema {
  const type = schema.types?.[ref.replace(/^#\/types\//, "")];
  if (!type) throw new Error(`schema.json refers to a missing type ${ref}`);
  return type;
}

export function validateInputs(kind: string, inputs: Record<string, unknown>): CheckFailure[] {
  const resource = resourceSchema(kind);
  const failures: CheckFailure[] = [];
  for (const name of resource.requiredInputs ?? []) {
    if (inputs[name] === undefined || inputs[name] === null) {
      failures.push({
        property: name,
        reason: `${name} is required: set it in the ${kind}'s arguments`,
      });
    }
  }
  for (const [name, value] of Object.entries(inputs)) {
    if (name.startsWith("__")) continue;
    const property = resource.inputProperties[name];
    if (!property) {
      failures.push(
        extra({
          property: name,
          reason: resource.properties[name]
            ? `${name} is an output of the ${kind}, set by virtwire, not an input: remove it from the arguments`
            : unknownProperty(name, Object.keys(resource.inputProperties), kind),
        }),
      );
      continue;
    }
    failures.push(...validateValue(name, value, property));
  }
  return failures;
}

function validateValue(path: string, value: unknown, property: PropertySchema): CheckFailure[] {
  if (value === undefined || value === null || value === UNKNOWN) return [];
  const fail = (reason: string): CheckFailure[] => [{ property: path, reason }];
  const rules = property.language?.virtwire ?? {};
  // A secret's value never goes into a message (the engine would print it in clear).
  const show = (shown: unknown) => (property.secret ? "(a secret value)" : showValue(shown));
  if (rules.units === "bytes") {
    const problem = sizeProblem(value);
    return problem ? fail(`${path} ${show(value)} ${problem}`) : [];
  }
  if (property.$ref) {
    return validateRef(path, value, typeOf(property.$ref), property.$ref.split(":").pop()!);
  }
  if (property.oneOf) {
    return property.oneOf.some((option) => validateValue(path, value, option).length === 0)
      ? []
      : fail(`${path} has the wrong type: got ${show(value)}`);
  }
  switch (property.type) {
    case "string":
      if (typeof value !== "string") return fail(`${path} must be a string; got ${show(value)}`);
      if (rules.pattern && !new RegExp(rules.pattern, "u").test(value)) {
        return fail(`${path} ${show(value)} is not valid: ${patternHelp(property)}`);
      }
      return [];
    case "integer":
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value))
        return fail(`${path} must be a number; got ${show(value)}`);
      if (property.type === "integer" && !Number.isInteger(value))
        return fail(`${path} must be a whole number; got ${value}`);
      if (rules.minimum !== undefined && value < rules.minimum)
        return fail(`${path} must be at least ${rules.minimum}; got ${value}`);
      if (rules.maximum !== undefined && value > rules.maximum)
        return fail(`${path} must be at most ${rules.maximum}; got ${value}`);
      return [];
    case "boolean":
      return typeof value === "boolean"
        ? []
        : fail(`${path} must be true or false; got ${show(value)}`);
    case "array":
      if (!Array.isArray(value)) return fail(`${path} must be a list; got ${show(value)}`);
      return value.flatMap((item, index) =>
        validateValue(`${path}[${index}]`, item, property.items ?? {}),
      );
    case "object":
      if (!isObject(value)) return fail(`${path} must be an object; got ${show(value)}`);
      return Object.entries(value).flatMap(([key, item]) =>
        validateValue(`${path}.${key}`, item, property.additionalProperties ?? {}),
      );
    default:
      return [];
  }
}

function validateRef(
  path: string,
  value: unknown,
  type: TypeSchema,
  typeName: string,
): CheckFailure[] {
  if (type.enum) {
    const allowed = type.enum.map((entry) => entry.value);
    if (typeof value === "string" && allowed.includes(value)) return [];
    const hint = typeof value === "string" ? closest(value, allowed) : undefined;
    return [
      {
        property: path,
        reason: `${path} must be one of ${allowed.map((v) => JSON.stringify(v)).join(", ")}; got ${showValue(value)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ""}`,
      },
    ];
  }
  if (!isObject(value))
    return [{ property: path, reason: `${path} must be an object; got ${showValue(value)}` }];
  const failures: CheckFailure[] = [];
  for (const name of type.required ?? []) {
    if (value[name] === undefined || value[name] === null) {
      failures.push({
        property: `${path}.${name}`,
        reason: `${path}.${name} is required: set it, or leave out ${path}`,
      });
    }
  }
  for (const [name, item] of Object.entries(value)) {
    const property = type.properties?.[name];
    if (!property) {
      failures.push(
        extra({
          property: `${path}.${name}`,
          reason: unknownProperty(`${path}.${name}`, Object.keys(type.properties ?? {}), typeName),
        }),
      );
      continue;
    }
    failures.push(...validateValue(`${path}.${name}`, item, property));
  }
  return failures;
}

/**
 * A function's arguments checked against schema.json as a resource's inputs are (types, enums,
 * patterns, required, unknown names with "did you mean"), with the schema's defaults filled in.
 */
export function checkFunctionArgs(
  token: string,
  args: Record<string, unknown>,
): { args: Record<string, unknown>; failures: CheckFailure[] } {
  const fn = schema.functions?.[token];
  if (!fn) throw new Error(`virtwire has no function ${token}`);
  const name = token.split(":").pop()!;
  const properties = fn.inputs?.properties ?? {};
  const failures: CheckFailure[] = [];
  for (const key of fn.inputs?.required ?? []) {
    if (args[key] === undefined || args[key] === null) {
      failures.push({ property: key, reason: `${key} is required: give it to ${name}` });
    }
  }
  const filled: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    if (value === undefined || value === null) continue;
    const property = properties[key];
    if (!property) {
      failures.push({ property: key, reason: unknownProperty(key, Object.keys(properties), name) });
      continue;
    }
    failures.push(...validateValue(key, value, property));
    filled[key] = value;
  }
  for (const [key, property] of Object.entries(properties)) {
    if (filled[key] === undefined && property.default !== undefined) filled[key] = property.default;
  }
  return { args: filled, failures };
}

/** Inputs as check() returns them: a kind's checked inputs, with the `__` keys beside them. */
export type Checked<Kind extends string> = (Kind extends keyof CheckedInputsByKind
  ? CheckedInputsByKind[Kind]
  : unknown) &
  Record<string, unknown>;

/**
 * Fills defaults and auto-names; an auto-name given before is kept. Every property with a default
 * in schema.json is set afterwards, at any depth: the kind's `Checked…Inputs` type says so.
 */
export function applyDefaults<Kind extends string>(
  kind: Kind,
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): Checked<Kind> {
  const resource = resourceSchema(kind);
  const inputs = { ...news };
  for (const [name, property] of Object.entries(resource.inputProperties)) {
    if (!property.language?.virtwire?.autoName || isSet(inputs[name])) continue;
    const logicalName = String(news.__logicalName ?? kind.toLowerCase());
    const previous = olds[name];
    inputs[name] =
      typeof previous === "string" &&
      olds.__logicalName === news.__logicalName &&
      olds.__autoNamed === name
        ? previous
        : autoName(logicalName, nameDigits(resource, news, name));
    inputs.__autoNamed = name;
  }
  return fillDefaults(kind, inputs);
}

/**
 * `given` with schema.json's defaults set where a property is unset, inside objects and lists of
 * objects too; an unset property without one is left out. The one place defaults are applied:
 * filling checked inputs again changes nothing, so a kind may fill what it is handed (inputs from
 * a test, or a refresh's inputs from a state an older virtwire wrote) to be sure they are checked.
 */
export function fillDefaults<Kind extends string>(kind: Kind, given: object): Checked<Kind> {
  const inputs: Record<string, unknown> = { ...given };
  for (const [name, property] of Object.entries(resourceSchema(kind).inputProperties)) {
    if (!isSet(inputs[name])) {
      if (property.default === undefined) delete inputs[name];
      else inputs[name] = property.default;
    }
    if (inputs[name] !== undefined) inputs[name] = withNestedDefaults(inputs[name], property);
  }
  return inputs as Checked<Kind>;
}

const isSet = (value: unknown) => value !== undefined && value !== null;

/**
 * The auto-name a replacement of a resource with these checked inputs gets: the engine checks a
 * replacement again without the old inputs, so its name is derived afresh (naming.ts) rather than
 * kept. Exact for kinds whose defaults add nothing the name is derived from (none of Volume's do).
 */
export function replacementAutoName(
  kind: string,
  inputs: Record<string, unknown>,
  nameProperty: string,
): string {
  const logicalName = String(inputs.__logicalName ?? kind.toLowerCase());
  return autoName(logicalName, nameDigits(resourceSchema(kind), inputs, nameProperty));
}

/**
 * An object of a schema type with the defaults of its properties filled in where unset (and so on
 * down, through lists too); anything else, e.g. a value not known yet, is returned as it is.
 */
function withNestedDefaults(value: unknown, property: PropertySchema): unknown {
  if (Array.isArray(value) && property.items) {
    return value.map((item) => withNestedDefaults(item, property.items!));
  }
  if (!property.$ref || !isObject(value)) return value;
  const type = typeOf(property.$ref);
  if (type.enum) return value;
  const filled: Record<string, unknown> = { ...value };
  for (const [name, inner] of Object.entries(type.properties ?? {})) {
    if ((filled[name] === undefined || filled[name] === null) && inner.default !== undefined) {
      filled[name] = inner.default;
    }
    if (filled[name] !== undefined) filled[name] = withNestedDefaults(filled[name], inner);
  }
  return filled;
}

/**
 * `<logical name>-<7 hex>`, with characters libvirt refuses in names replaced by `-`; the digits
 * come from naming.ts (derived from the URN and inputs), else at random.
 */
export function autoName(
  logicalName: string,
  digits = randomBytes(4).toString("hex").slice(0, 7),
): string {
  return `${nameBase(logicalName, "virtwire")}-${digits}`;
}

/**
 * The resource name with characters libvirt refuses in names replaced by `-` and at most 90 long;
 * `fallback` when nothing is left.
 */
export function nameBase(logicalName: string, fallback: string): string {
  return (
    logicalName
      .replace(/[^A-Za-z0-9_.+:-]/g, "-")
      .replace(/^[^A-Za-z0-9_]+/, "")
      .slice(0, 90) || fallback
  );
}

const extras = new WeakSet<CheckFailure>();

function extra(failure: CheckFailure): CheckFailure {
  extras.add(failure);
  return failure;
}

/**
 * Whether a failure of validateInputs is only a property too many: the rest of the inputs still
 * have the schema's types, so the kind's own rules can look at them too.
 */
export function isExtraProperty(failure: CheckFailure): boolean {
  return extras.has(failure);
}

/** `targetpath is not a property of Pool; did you mean "targetPath"?` */
function unknownProperty(path: string, known: string[], owner: string): string {
  const leaf = path.split(".").pop()!;
  const hint = closest(leaf, known);
  return `${path} is not a property of ${owner}${hint ? `; did you mean ${JSON.stringify(hint)}?` : `: remove it, or use one of ${known.join(", ")}`}`;
}

function patternHelp(property: PropertySchema): string {
  const rules = property.language?.virtwire;
  return rules?.help ?? `it must match ${rules?.pattern}`;
}

/** A value for a message: short values as they are, never a dump of an object or a list. */
function showValue(value: unknown): string {
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (isObject(value)) return "an object";
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}..."` : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
