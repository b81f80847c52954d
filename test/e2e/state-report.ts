/**
 * Reading `pulumi stack export`: which libvirt objects the stack holds, the sizes of its resources
 * and every absolute path in it.
 */

interface ExportedResource {
  urn: string;
  type: string;
  id?: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}

interface ExportedState {
  deployment: { resources?: ExportedResource[] };
}

export function resourcesOf(exported: string): ExportedResource[] {
  return (JSON.parse(exported) as ExportedState).deployment.resources ?? [];
}

/** A virtwire resource of either path: the dynamic provider or the plugin. */
const VIRTWIRE_TYPE = /^(?:pulumi-nodejs:dynamic\/virtwire|virtwire:index):(\w+)$/;

/** The names (domains, networks, pools) and keys (volumes, seeds) of the stack's libvirt objects. */
export function stackObjects(exported: string) {
  const objects = { domains: [] as string[], networks: [] as string[], pools: [] as string[] };
  const volumes: string[] = [];
  for (const resource of resourcesOf(exported)) {
    const kind = VIRTWIRE_TYPE.exec(resource.type)?.[1];
    const name = String(resource.outputs?.name ?? "");
    if (kind === "Domain") objects.domains.push(name);
    if (kind === "Network") objects.networks.push(name);
    if (kind === "Pool") objects.pools.push(name);
    if (kind === "Volume" || kind === "CloudInitDisk") volumes.push(String(resource.id));
  }
  return { ...objects, volumes };
}

export interface SizeRow {
  type: string;
  count: number;
  /** Average bytes of one resource's JSON in the export. */
  bytesEach: number;
  /** … of which its inputs and its outputs (the rest: URN, dependencies, source positions). */
  inputsEach: number;
  outputsEach: number;
}

/** Bytes per resource, by type, and the `__provider` values found. */
export function sizeReport(exported: string): {
  rows: SizeRow[];
  total: number;
  providers: string[];
} {
  const byType = new Map<string, [number, number, number][]>();
  const providers = new Set<string>();
  const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value ?? {}));
  for (const resource of resourcesOf(exported)) {
    const sizes = byType.get(resource.type) ?? [];
    sizes.push([bytes(resource), bytes(resource.inputs), bytes(resource.outputs)]);
    byType.set(resource.type, sizes);
    for (const props of [resource.inputs, resource.outputs]) {
      if (typeof props?.__provider === "string") providers.add(props.__provider);
    }
  }
  const average = (sizes: [number, number, number][], index: number) =>
    Math.round(sizes.reduce((sum, size) => sum + size[index]!, 0) / sizes.length);
  const rows = [...byType].map(([type, sizes]) => ({
    type: type.replace(/^pulumi-nodejs:dynamic\/virtwire:/, ""),
    count: sizes.length,
    bytesEach: average(sizes, 0),
    inputsEach: average(sizes, 1),
    outputsEach: average(sizes, 2),
  }));
  return { rows, total: Buffer.byteLength(exported), providers: [...providers] };
}

/** Every string value in the state that is an absolute path. */
export function absolutePaths(exported: string): string[] {
  const found = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value === "string" && value.startsWith("/")) found.add(value);
    else if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === "object") Object.values(value).forEach(visit);
  };
  visit(JSON.parse(exported));
  return [...found].sort();
}
