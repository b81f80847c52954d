/**
 * What GetSchema answers: schema.json, with the version of this package, and the explicit provider
 * (`pulumi:providers:virtwire`) derived from the stack config (providerSection). schema.json has
 * no `provider` section of its own: the settings are written down once, in `config`, and every
 * reader derives the provider from them the same way — this plugin, `npm run gen:langs` (which
 * feeds this very schema to Pulumi's Python and Go generators, scripts/codegen/served-schema.ts)
 * and the TypeScript SDK's `Provider` (scripts/codegen/gen-sdk.ts).
 */
export function pluginSchema(schemaText: string, version: string): string {
  const schema = JSON.parse(schemaText) as SchemaWithConfig;
  return JSON.stringify(
    withoutComplexDefaults({ ...schema, version, provider: providerSection(schema) }),
  );
}

/** Stack config keys that only say how the TypeScript SDK reaches virtwire: no provider setting. */
export const TYPESCRIPT_ONLY_CONFIG = ["plugin"];

interface SchemaWithConfig<V = { secret?: boolean }> {
  config?: { variables?: Record<string, V> };
  types?: Record<string, { properties?: Record<string, { secret?: boolean }> }>;
}

/**
 * The explicit provider's schema: every `virtwire:` config key but the TypeScript-only ones, with
 * their types, descriptions, defaults and `secret` marks. A setting whose values hold secrets
 * (`hosts`: each entry's password and keys) is a secret as a whole, as the TypeScript `Provider`
 * sends it: a provider's inputs are stored as given, and the generated SDKs mark top-level
 * properties only.
 */
export function providerSection<V extends object>(schema: SchemaWithConfig<V>) {
  const variables: Record<string, V> = { ...(schema.config?.variables ?? {}) };
  for (const key of TYPESCRIPT_ONLY_CONFIG) delete variables[key];
  for (const [key, variable] of Object.entries(variables)) {
    const refs = JSON.stringify(variable).match(/#\/types\/[^"]+/g) ?? [];
    const holdsSecret = refs.some((ref) =>
      Object.values(schema.types?.[ref.slice("#/types/".length)]?.properties ?? {}).some(
        (property) => property.secret,
      ),
    );
    if (holdsSecret) variables[key] = { ...variable, secret: true };
  }
  return {
    description:
      "The virtwire provider: the default libvirt host and other hosts, with their credentials.",
    inputProperties: variables,
  };
}

/**
 * Pulumi's schema allows defaults of booleans, numbers and strings only; virtwire's check fills in
 * list and object defaults itself (resources/kit/check.ts applyDefaults), so they are left out of
 * what other tools (code generators, `pulumi import`) read.
 */
function withoutComplexDefaults(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutComplexDefaults);
  if (typeof value !== "object" || value === null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === "default" && typeof item === "object" && item !== null) continue;
    copy[key] = withoutComplexDefaults(item);
  }
  return copy;
}
