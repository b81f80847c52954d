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
  return JSON.stringify({
    ...schema,
    version,
    provider: schema.provider ?? {
      description:
        "The virtwire provider: the default libvirt host and other hosts, with their credentials.",
      inputProperties: variables,
    },
  });
}
