/**
 * The subset of the Pulumi package schema (https://www.pulumi.com/docs/iac/extending-pulumi/schema/)
 * that virtwire's schema.json uses, plus the `language.virtwire` block where we keep validation
 * rules the schema format has no words for (patterns, bounds, size units, auto-naming).
 */
export interface VirtwireRules {
  pattern?: string;
  /** What a value matching `pattern` looks like, for the check failure message. */
  help?: string;
  minimum?: number;
  maximum?: number;
  /** `bytes`: a number of bytes or a string with a unit (`10GiB`, `512MiB`, `1G`). */
  units?: "bytes";
  /** The property defaults to `<resource name>-<7 hex>` when not set. */
  autoName?: boolean;
}

export interface PropertySchema {
  type?: "string" | "integer" | "number" | "boolean" | "array" | "object";
  $ref?: string;
  items?: PropertySchema;
  additionalProperties?: PropertySchema;
  oneOf?: PropertySchema[];
  description?: string;
  default?: unknown;
  secret?: boolean;
  replaceOnChanges?: boolean;
  language?: { virtwire?: VirtwireRules };
}

export interface TypeSchema {
  type: "object" | "string";
  description?: string;
  properties?: Record<string, PropertySchema>;
  required?: string[];
  enum?: { value: string; name?: string; description?: string }[];
}

export interface ResourceSchema {
  description?: string;
  inputProperties: Record<string, PropertySchema>;
  requiredInputs?: string[];
  properties: Record<string, PropertySchema>;
  required?: string[];
  /** `getIds`: what `<Kind>.get` finds the object by, for the generated docs. */
  language?: { virtwire?: { getIds?: string } };
}

/** A function (data source, an invoke): its arguments and the object it returns. */
export interface FunctionSchema {
  description?: string;
  inputs?: { properties: Record<string, PropertySchema>; required?: string[] };
  outputs: { properties: Record<string, PropertySchema>; required?: string[] };
}

export interface PackageSchema {
  name: string;
  config?: { variables?: Record<string, PropertySchema> };
  types?: Record<string, TypeSchema>;
  resources: Record<string, ResourceSchema>;
  functions?: Record<string, FunctionSchema>;
}
