/**
 * Storage pool XML (https://libvirt.org/formatstorage.html), built from a Pool's inputs and read
 * back from libvirt's description:
 *
 *   <pool type="dir|fs|netfs|logical">
 *     <name>…</name>
 *     <source>  <host name="…"/> <dir path="…"/> <device path="…"/>… <name>vg</name> <format type="…"/>  </source>
 *     <target>  <path>…</path>  <permissions><mode/><owner/><group/></permissions>  </target>
 *   </pool>
 */
import { create } from "../kit/xmlbuilder";
import type { PoolInputs, PoolPermissions, PoolSource, PoolType } from "../kit/generated/types";
import { attr, element, elements, numberText, parseXml, text } from "../kit/xml";

/**
 * `uuid`: when redefining an existing pool, so libvirt updates it instead of refusing a duplicate;
 * for a new pool, one that carries virtwire's mark (resources/kit/owner.ts).
 */
export function buildPoolXml(inputs: PoolInputs, uuid?: string): string {
  const pool = create().ele("pool", { type: inputs.type });
  pool.ele("name").txt(inputs.name!);
  if (uuid) pool.ele("uuid").txt(uuid);
  const source = inputs.source;
  if (source) {
    const node = pool.ele("source");
    if (source.host) node.ele("host", { name: source.host });
    if (source.dir) node.ele("dir", { path: source.dir });
    for (const device of source.devices ?? []) node.ele("device", { path: device });
    if (source.name) node.ele("name").txt(source.name);
    if (source.format) node.ele("format", { type: source.format });
  }
  const target = pool.ele("target");
  target.ele("path").txt(inputs.targetPath);
  const permissions = inputs.permissions;
  if (permissions && Object.values(permissions).some((v) => v !== undefined)) {
    const node = target.ele("permissions");
    if (permissions.mode !== undefined) node.ele("mode").txt(permissions.mode);
    if (permissions.owner !== undefined) node.ele("owner").txt(String(permissions.owner));
    if (permissions.group !== undefined) node.ele("group").txt(String(permissions.group));
  }
  return pool.end({ headless: true, prettyPrint: true });
}

export interface PoolDescription {
  name: string;
  type: PoolType;
  targetPath: string;
  permissions: PoolPermissions;
  source: PoolSource;
}

export function readPoolXml(xml: string): PoolDescription {
  const pool = parseXml(xml, "pool");
  const source = element(pool, "source");
  const permissions = element(element(pool, "target"), "permissions");
  return {
    name: text(pool, "name") ?? "",
    type: attr(pool, "type") as PoolType,
    targetPath: text(element(pool, "target"), "path") ?? "",
    permissions: {
      mode: normalizeMode(text(permissions, "mode")),
      owner: unsignedId(numberText(permissions, "owner")),
      group: unsignedId(numberText(permissions, "group")),
    },
    source: {
      host: attr(element(source, "host"), "name"),
      dir: attr(element(source, "dir"), "path"),
      devices: elements(source, "device").map((device) => attr(device, "path") ?? ""),
      name: text(source, "name"),
      format: attr(element(source, "format"), "type"),
    },
  };
}

/**
 * A path as libvirt stores a pool's target (virFileSanitizePath): doubled slashes collapsed (a
 * leading `//` alone kept, as POSIX allows) and a trailing slash dropped.
 */
export function sanitizePath(path: string): string {
  const lead = /^\/\/(?!\/)/.test(path) ? "//" : "";
  const rest = path.slice(lead.length).replace(/\/{2,}/g, "/");
  const joined = lead + rest;
  return joined.length > 1 && joined.endsWith("/") ? joined.slice(0, -1) : joined;
}

/**
 * libvirt prints a user or group id as a signed int: 4294967291 as -5 (found by generated inputs),
 * and -1 for none.
 */
function unsignedId(id: number | undefined): number | undefined {
  if (id === undefined || id === -1) return undefined;
  return id < 0 ? id + 2 ** 32 : id;
}

/** Whether two modes are the same bits (`755` and `0755` are). */
export function sameMode(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && parseInt(a, 8) === parseInt(b, 8);
}

/** libvirt prints modes as it stores them (`0755`, `755`); compare them as octal numbers. */
function normalizeMode(mode: string | undefined): string | undefined {
  if (mode === undefined) return undefined;
  return parseInt(mode, 8).toString(8).padStart(4, "0");
}
