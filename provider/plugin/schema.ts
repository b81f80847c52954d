/**
 * What GetSchema answers: schema.json, with the version of this package, and the explicit provider
 * (`pulumi:providers:virtwire`) described by the same settings as the stack config minus `plugin`
 * (which only says how the TypeScript SDK reaches virtwire), so they are written down once.
 */
export function pluginSchema(schemaText: string, version: string): string {
  const schema = JSON.parse(schemaText) as {
    config?: { variables?: Record<string, { secret?: boolean }> };
    provider?: unknown;
  };
  const variables = { ...(schema.config?.variables ?? {}) };
  delete variables.plugin;
  return JSON.stringify(
    withoutComplexDefaults({
      ...schema,
      version,
      provider: schema.provider ?? {
        description:
          "The virtwire provider: the default libvirt host and other hosts, with their credentials.",
        inputProperties: variables,
      },
    }),
  );
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
