/**
 * Reading the machine-level elements (xml-machine.ts) back from a domain's XML, into the shape of
 * a Domain's properties: booleans for the presence-only switches (libvirt drops what is off), every
 * other key only when libvirt has it, so that read-back objects compare equal to the user's.
 */
import { create } from "../kit/xmlbuilder";
import type { DomainMetadata, DomainOutputs } from "../kit/generated/types";
import { RESOURCE_NAMESPACE } from "../kit/owner";
import { parseSize } from "../kit/units";
import { attr, children, element, elements, text } from "../kit/xml";
import type { XmlNode } from "../kit/xml";
import { formatBytes } from "./normalize";
import { HYPERV_SWITCHES, FW_CFG_FILES, SYSINFO_BLOCKS } from "./xml-machine";

/** What this module reads back: the machine-level properties as libvirt has them. */
export type MachineDescription = Pick<
  DomainOutputs,
  | "cpu"
  | "memoryBacking"
  | "iothreads"
  | "sysinfo"
  | "clock"
  | "features"
  | "onPoweroff"
  | "onReboot"
  | "onCrash"
  | "title"
  | "description"
  | "ignition"
  | "combustion"
> & {
  /** Every element in `<metadata>` other than virtwire's mark, by namespace. */
  metadataElements: DomainMetadata[];
};

export function readMachineXml(domain: XmlNode): MachineDescription {
  return {
    cpu: readCpu(element(domain, "cpu")),
    memoryBacking: readMemoryBacking(element(domain, "memoryBacking")),
    iothreads: numberOrUndefined(text(domain, "iothreads")),
    sysinfo: readSysinfo(
      elements(domain, "sysinfo").find((node) => attr(node, "type") === "smbios"),
    ),
    ignition: readFwCfg(elements(domain, "sysinfo"), FW_CFG_FILES.ignition),
    combustion: readFwCfg(elements(domain, "sysinfo"), FW_CFG_FILES.combustion),
    clock: readClock(element(domain, "clock")),
    features: readFeatures(element(domain, "features")),
    onPoweroff: text(domain, "on_poweroff") as MachineDescription["onPoweroff"],
    onReboot: text(domain, "on_reboot") as MachineDescription["onReboot"],
    onCrash: text(domain, "on_crash") as MachineDescription["onCrash"],
    title: text(domain, "title"),
    description: text(domain, "description"),
    metadataElements: readMetadataElements(element(domain, "metadata")),
  };
}

function numberOrUndefined(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}

/** Only the keys that have a value, so read-back objects compare equal to the user's. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}

function bytesOf(value: string | undefined, unit: string | undefined): number | undefined {
  return value === undefined ? undefined : parseSize(`${value}${unit ?? "KiB"}`);
}

function readCpu(cpu: XmlNode | undefined): DomainOutputs["cpu"] {
  if (cpu === undefined) return undefined;
  const result: NonNullable<DomainOutputs["cpu"]> = {
    // libvirt's default mode is custom; a <cpu> with only a topology has no model.
    mode: (attr(cpu, "mode") ?? "custom") as NonNullable<DomainOutputs["cpu"]>["mode"],
  };
  const model = element(cpu, "model");
  if (text(model) !== undefined) result.model = text(model);
  const fallback = attr(model, "fallback");
  if (fallback !== undefined) result.fallback = fallback as typeof result.fallback;
  const topology = element(cpu, "topology");
  if (topology !== undefined) {
    result.topology = {
      sockets: Number(attr(topology, "sockets") ?? 1),
      cores: Number(attr(topology, "cores") ?? 1),
      threads: Number(attr(topology, "threads") ?? 1),
    };
  }
  const features = elements(cpu, "feature").map((node) => ({
    name: attr(node, "name") ?? "",
    // libvirt's default policy when a feature has none.
    policy: (attr(node, "policy") ?? "require") as "require",
  }));
  if (features.length > 0) result.features = features;
  const cells = elements(element(cpu, "numa"), "cell").map((node) => ({
    cpus: attr(node, "cpus") ?? "",
    memory: formatBytes(bytesOf(attr(node, "memory"), attr(node, "unit")) ?? 0),
  }));
  if (cells.length > 0) result.numaCells = cells;
  return result;
}

function readMemoryBacking(node: XmlNode | undefined): DomainOutputs["memoryBacking"] {
  const pages = element(node, "hugepages");
  const page = element(pages, "page");
  const size = bytesOf(attr(page, "size"), attr(page, "unit"));
  return defined({
    hugepages: pages !== undefined,
    hugepageSize: size === undefined ? undefined : formatBytes(size),
    locked: element(node, "locked") !== undefined,
    noSharePages: element(node, "nosharepages") !== undefined,
    source: attr(element(node, "source"), "type") as "memfd" | undefined,
    access: attr(element(node, "access"), "mode") as "shared" | undefined,
  });
}

function readSysinfo(node: XmlNode | undefined): DomainOutputs["sysinfo"] {
  if (node === undefined) return undefined;
  const result: Record<string, unknown> = {};
  for (const [block, names] of Object.entries(SYSINFO_BLOCKS)) {
    const entries = elements(element(node, block), "entry");
    const values: Record<string, string> = {};
    for (const name of names) {
      const value = text(entries.find((entry) => attr(entry, "name") === name));
      if (value !== undefined) values[name] = value;
    }
    if (Object.keys(values).length > 0) result[block] = values;
  }
  const oem = elements(element(node, "oemStrings"), "entry").map((entry) => text(entry) ?? "");
  if (oem.length > 0) result.oemStrings = oem;
  return result as DomainOutputs["sysinfo"];
}

function readFwCfg(sysinfos: XmlNode[], name: string): { path: string } | undefined {
  const entries = sysinfos
    .filter((node) => attr(node, "type") === "fwcfg")
    .flatMap((node) => elements(node, "entry"));
  const path = attr(
    entries.find((entry) => attr(entry, "name") === name),
    "file",
  );
  return path === undefined ? undefined : { path };
}

function readClock(node: XmlNode | undefined): DomainOutputs["clock"] {
  if (node === undefined) return undefined;
  const timers = elements(node, "timer").map((timer) => {
    const present = attr(timer, "present");
    return defined({
      name: attr(timer, "name") as "rtc",
      present: present === undefined ? undefined : present === "yes",
      tickPolicy: attr(timer, "tickpolicy") as "delay" | undefined,
    });
  });
  return defined({
    offset: attr(node, "offset") as "utc" | undefined,
    timers: timers.length > 0 ? timers : undefined,
  });
}

function readFeatures(node: XmlNode | undefined): DomainOutputs["features"] {
  const state = (child: XmlNode | undefined) => {
    const value = attr(child, "state");
    return child === undefined ? undefined : value === undefined || value === "on";
  };
  const hv = element(node, "hyperv");
  let hyperv: Record<string, unknown> | undefined;
  if (hv !== undefined) {
    hyperv = {};
    for (const name of HYPERV_SWITCHES) hyperv[name] = state(element(hv, name));
    const spinlocks = element(hv, "spinlocks");
    if (state(spinlocks)) hyperv.spinlocks = numberOrUndefined(attr(spinlocks, "retries"));
    const vendor = element(hv, "vendor_id");
    if (state(vendor)) hyperv.vendorId = attr(vendor, "value");
    hyperv = defined(hyperv);
  }
  return defined({
    acpi: element(node, "acpi") !== undefined,
    apic: element(node, "apic") !== undefined,
    pae: element(node, "pae") !== undefined,
    smm: state(element(node, "smm")),
    hyperv,
  });
}

/** Every element in `<metadata>` but virtwire's, with its namespace, prefix and content. */
function readMetadataElements(metadata: XmlNode | undefined): DomainMetadata[] {
  const found: DomainMetadata[] = [];
  for (const [key, node] of children(metadata)) {
    const [prefix, local] = key.includes(":") ? key.split(":") : ["", key];
    const namespace = attr(node, prefix ? `xmlns:${prefix}` : "xmlns");
    if (namespace === undefined || namespace === RESOURCE_NAMESPACE) continue;
    found.push({ namespace, prefix: prefix!, xml: serializeElement(local!, node) });
  }
  return found;
}

/** An element of the object form as XML text, without namespace declarations or prefixes. */
function serializeElement(name: string, node: XmlNode): string {
  return create({ [name]: withoutNamespaces(node) }).end({ headless: true });
}

/** The object form without `xmlns` attributes, and element names without their prefix. */
function withoutNamespaces(value: unknown): XmlNode {
  if (Array.isArray(value)) return value.map(withoutNamespaces) as unknown as XmlNode;
  if (typeof value !== "object" || value === null) return value as XmlNode;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== "@xmlns" && !key.startsWith("@xmlns:"))
      .map(([key, item]) => [
        key.startsWith("@") || key.startsWith("#") ? key : key.replace(/^[^:]*:/, ""),
        withoutNamespaces(item),
      ]),
  );
}

/**
 * A form of an element's XML in which formatting does not matter (libvirt re-indents what it
 * keeps): the object form with text trimmed, as JSON. Undefined when the text is not one element.
 */
export function canonicalXml(xml: string): string | undefined {
  try {
    const document = create(xml).end({ format: "object" }) as Record<string, unknown>;
    const entries = Object.entries(document);
    if (entries.length !== 1) return undefined;
    const [name, node] = entries[0]!;
    return JSON.stringify({
      [name.replace(/^.*:/, "")]: trimmed(withoutNamespaces(node as XmlNode)),
    });
  } catch {
    return undefined;
  }
}

function trimmed(value: unknown): unknown {
  if (typeof value === "string") return value.trim();
  if (Array.isArray(value)) return value.map(trimmed);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, trimmed(item)]));
}
