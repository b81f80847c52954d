/**
 * The TypeScript spelling of schema.json's names and types, shared by the generators
 * (gen-sdk.ts, gen-checked.ts, gen-functions.ts, gen-docs.ts).
 */
import { PackageSchema, PropertySchema, ResourceSchema } from "../../resources/kit/schema-types";

/** `virtwire:index:PoolPermissions` → `PoolPermissions` */
export function tokenName(token: string): string {
  const name = token.split(":").pop();
  if (!name) throw new Error(`bad type token ${token}`);
  return name;
}

function refName(ref: string): string {
  return tokenName(ref.replace(/^#\/types\//, ""));
}

export function doc(text: string | undefined, indent = ""): string {
  if (!text) return "";
  const lines = text.replace(/\*\//g, "*\\/").split("\n");
  return `${indent}/**\n${lines.map((line) => `${indent} * ${line}`.trimEnd()).join("\n")}\n${indent} */\n`;
}

/**
 * The TypeScript type of a property. `args`: wrap in pulumi.Input for the Args shapes. `prefix`:
 * how plain named types are reached (`types.` from index.ts, nothing inside types.ts).
 */
export function tsType(
  schema: PackageSchema,
  property: PropertySchema,
  args: boolean,
  prefix = "",
): string {
  const wrap = (t: string) => (args ? `pulumi.Input<${t}>` : t);
  if (property.$ref) {
    const name = refName(property.$ref);
    const target = schema.types?.[property.$ref.replace(/^#\/types\//, "")];
    if (target?.enum) return wrap(`${prefix}${name}`);
    return wrap(args ? `${name}Args` : `${prefix}${name}`);
  }
  if (property.oneOf)
    return wrap(property.oneOf.map((p) => tsType(schema, p, false, prefix)).join(" | "));
  switch (property.type) {
    case "string":
      return wrap("string");
    case "integer":
    case "number":
      return wrap("number");
    case "boolean":
      return wrap("boolean");
    case "array":
      return wrap(`${tsType(schema, property.items ?? {}, args, prefix)}[]`);
    case "object":
      return wrap(
        `Record<string, ${tsType(schema, property.additionalProperties ?? {}, args, prefix)}>`,
      );
    default:
      return wrap("unknown");
  }
}

/**
 * The inputs a `<Kind>.get` sends with the id: what the provider needs to find the object (the
 * host to look on; for volumes, the pool to look for a name in). Everything else it reads.
 */
export function getQualifiers(resource: ResourceSchema): string[] {
  return ["pool", "host"].filter((key) => key in resource.inputProperties);
}

/** `text` broken into lines of at most `width` characters, at spaces. */
export function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  return [...lines, line].join("\n");
}

export function fields(
  schema: PackageSchema,
  properties: Record<string, PropertySchema>,
  required: string[],
  args: boolean,
  prefix = "",
): string {
  return Object.entries(properties)
    .map(([name, property]) => {
      const optional = required.includes(name) ? "" : "?";
      return `${doc(property.description, "  ")}  ${name}${optional}: ${tsType(schema, property, args, prefix)};`;
    })
    .join("\n");
}

/** Single characters Pulumi's generators spell out in enum member names. */
const SHORT_ENUM_NAMES: Record<string, string> = {
  "*": "Asterisk",
  ...Object.fromEntries(
    ["Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine"].map(
      (word, digit) => [String(digit), word],
    ),
  ),
};

/**
 * The name Pulumi's TypeScript generators give an enum member (pkg/v3/codegen/nodejs,
 * makeSafeEnumName), so that the programs `pulumi import` prints (`virtwire.NetworkMode.Isolated`)
 * compile against this package: the schema's name, else the value, with its first letter
 * upper-cased and every character that cannot be part of an identifier replaced by `_`
 * (`host-passthrough` → `Host_passthrough`).
 */
export function enumMemberName(typeName: string, member: { name?: string; value: string }): string {
  let name = member.name ?? member.value;
  name = SHORT_ENUM_NAMES[name] ?? name;
  name = name.charAt(0).toUpperCase() + name.slice(1);
  name = [...name]
    .map((c, i) =>
      /^[\p{L}\p{Nl}$_\p{Mn}\p{Mc}\p{Nd}\p{Pc}]$/u.test(c)
        ? i === 0 && !/^[\p{L}\p{Nl}$_]$/u.test(c)
          ? `_${c}`
          : c
        : "_",
    )
    .join("")
    .replace(/_+/g, "_");
  return name.startsWith("_") ? typeName + name : name;
}
