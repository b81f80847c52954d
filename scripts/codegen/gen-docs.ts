/**
 * schema.json → the README's reference tables (between the `<!-- BEGIN/END GENERATED … -->`
 * markers): every config key, and each resource's inputs and outputs with their descriptions.
 */
import type {
  PackageSchema,
  PropertySchema,
  ResourceSchema,
} from "../../resources/kit/schema-types";
import { getQualifiers, tokenName } from "./ts-types";

export const BEGIN = "<!-- BEGIN GENERATED: reference (npm run gen) -->";
export const END = "<!-- END GENERATED: reference -->";

function typeText(schema: PackageSchema, property: PropertySchema): string {
  if (property.$ref) {
    const token = property.$ref.replace(/^#\/types\//, "");
    const type = schema.types?.[token];
    if (type?.enum) return type.enum.map((e) => `\`${e.value}\``).join(" \\| ");
    return `${tokenName(token)}`;
  }
  if (property.language?.virtwire?.units === "bytes") return "size";
  if (property.oneOf) return property.oneOf.map((p) => typeText(schema, p)).join(" \\| ");
  if (property.type === "array") return `${typeText(schema, property.items ?? {})}[]`;
  return property.type ?? "any";
}

function cell(text: string | undefined): string {
  return (text ?? "").replace(/\|/g, "\\|").replace(/\n+/g, " ");
}

function table(
  schema: PackageSchema,
  properties: Record<string, PropertySchema>,
  required: string[],
): string {
  const rows = Object.entries(properties).map(([name, property]) => {
    const notes = [
      required.includes(name) ? "**required**" : "",
      property.default !== undefined ? `default \`${JSON.stringify(property.default)}\`` : "",
      property.secret ? "secret" : "",
    ].filter(Boolean);
    return `| \`${name}\` | ${typeText(schema, property)} | ${cell(property.description)}${notes.length ? ` (${notes.join(", ")})` : ""} |`;
  });
  return ["| name | type | description |", "| --- | --- | --- |", ...rows].join("\n");
}

export function generateReference(schema: PackageSchema): string {
  const parts = [
    BEGIN,
    "",
    "### Configuration",
    "",
    table(schema, schema.config?.variables ?? {}, []).replace(
      /\| `(\w+)` \|/g,
      "| `virtwire:$1` |",
    ),
  ];
  for (const [token, resource] of Object.entries(schema.resources)) {
    const name = tokenName(token);
    const inputs = Object.keys(resource.inputProperties);
    const outputs = Object.fromEntries(
      Object.entries(resource.properties).filter(([key]) => !inputs.includes(key)),
    );
    parts.push(
      "",
      `### ${name}`,
      "",
      cell(resource.description),
      "",
      ...getLine(name, resource),
      "Inputs:",
      "",
      table(schema, resource.inputProperties, resource.requiredInputs ?? []),
    );
    parts.push("", "Outputs (besides the inputs):", "", table(schema, outputs, []));
  }
  parts.push(...functionSections(schema));
  const objectTypes = Object.entries(schema.types ?? {}).filter(([, type]) => !type.enum);
  if (objectTypes.length) {
    parts.push("", "### Object types");
    for (const [token, type] of objectTypes) {
      parts.push(
        "",
        `#### ${tokenName(token)}`,
        "",
        cell(type.description),
        "",
        table(schema, type.properties ?? {}, type.required ?? []),
      );
    }
  }
  parts.push("", END);
  return parts.join("\n");
}

/** Each function (data source): what it does, how to call it, its arguments and its result. */
function functionSections(schema: PackageSchema): string[] {
  const parts: string[] = [];
  for (const [token, fn] of Object.entries(schema.functions ?? {})) {
    const name = tokenName(token);
    parts.push(
      "",
      `### ${name}`,
      "",
      cell(fn.description),
      "",
      `\`${name}(args, opts?)\` returns a promise, \`${name}Output(args, opts?)\` an Output and takes Outputs as arguments; the plugin serves it as \`${token}\`.`,
      "",
      "Arguments:",
      "",
      table(schema, fn.inputs?.properties ?? {}, fn.inputs?.required ?? []),
      "",
      "Result:",
      "",
      table(schema, fn.outputs.properties, []),
    );
  }
  return parts;
}

/** How `<Kind>.get` finds an existing object, and what its `state` may qualify the lookup with. */
function getLine(name: string, resource: ResourceSchema): string[] {
  const ids = resource.language?.virtwire?.getIds;
  if (!ids) return [];
  const state = getQualifiers(resource)
    .map((key) => `\`${key}\``)
    .join(" and ");
  return [
    `\`${name}.get(name, id, state?, opts?)\` reads an existing one into the program, found by ${cell(ids)}; \`state\` may give ${state}.`,
    "",
  ];
}

/** The README with its generated section replaced. */
export function updateReadme(readme: string, reference: string): string {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < 0) throw new Error(`README.md lacks the ${BEGIN} … ${END} markers`);
  return readme.slice(0, start) + reference + readme.slice(end + END.length);
}
