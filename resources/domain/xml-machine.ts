/**
 * The machine-level elements of a Domain's XML (https://libvirt.org/formatdomain.html), built and
 * read here so that xml-build.ts and xml-read.ts call them with one line each:
 *
 *   <title/> <description/>  <metadata> …virtwire's mark… <prefix:elem xmlns:prefix="ns">…</prefix:elem> </metadata>
 *   <memoryBacking> <hugepages><page size unit="KiB"/>?</hugepages>? <nosharepages/>? <locked/>?
 *                   <source type/>? <access mode/>? </memoryBacking>
 *   <iothreads>N</iothreads>
 *   <sysinfo type="smbios"> <bios|system|baseBoard|chassis> <entry name>value</entry>* </…>
 *                           <oemStrings> <entry>value</entry>* </oemStrings> </sysinfo>
 *   <os> … <smbios mode="sysinfo"/> </os>
 *   <features> <acpi/>? <apic/>? <pae/>? <hyperv mode="custom"> <relaxed state="on|off"/> …
 *              <spinlocks state="on" retries/> <vendor_id state="on" value/> </hyperv>? <smm state/>? </features>
 *   <cpu mode match?> <model fallback?/>? <topology sockets dies? cores threads/>?
 *                     <feature policy name/>* <numa> <cell id cpus memory unit="KiB"/>* </numa>? </cpu>
 *   <clock offset> <timer name present? tickpolicy?/>* </clock>
 *   <on_poweroff/> <on_reboot/> <on_crash/>
 *
 * The user's metadata element is written with the user's prefix and namespace on its root (its
 * children keep no namespace, as DomainSetMetadata writes them); virtwire's own element is found by
 * its namespace (owner.ts), which check() refuses for the user's.
 */
import { builder, create, fragment } from "xmlbuilder2";
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces";
import type { DomainMetadata, DomainOutputs } from "../kit/generated/types";
import type { CheckedDomainInputs } from "../kit/generated/checked";
import { RESOURCE_NAMESPACE } from "../kit/owner";
import { parseSize } from "../kit/units";
import { attr, children, element, elements, text } from "../kit/xml";
import type { XmlNode } from "../kit/xml";
import { formatBytes } from "./normalize";

type Inputs = Partial<CheckedDomainInputs>;

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
> & {
  /** Every element in `<metadata>` other than virtwire's mark, by namespace. */
  metadataElements: DomainMetadata[];
};

/** The SMBIOS blocks and their libvirt entry names (the schema's property names). */
export const SYSINFO_BLOCKS = {
  bios: ["vendor", "version", "date", "release"],
  system: ["manufacturer", "product", "version", "serial", "sku", "family"],
  baseBoard: ["manufacturer", "product", "version", "serial", "asset", "location"],
  chassis: ["manufacturer", "version", "serial", "asset", "sku"],
} as const;

/** The Hyper-V enlightenments that are a plain on/off state. */
export const HYPERV_SWITCHES = [
  "relaxed",
  "vapic",
  "vpindex",
  "runtime",
  "synic",
  "stimer",
  "reset",
  "frequencies",
  "reenlightenment",
  "tlbflush",
  "ipi",
] as const;

/** title, description and the user's metadata element (beside the mark, if written already). */
export function addMachineHead(domain: XMLBuilder, inputs: Inputs): void {
  if (inputs.title) domain.ele("title").txt(inputs.title);
  if (inputs.description) domain.ele("description").txt(inputs.description);
  const wanted = inputs.metadata;
  if (!wanted) return;
  const existing = domain.find((node) => node.node.nodeName === "metadata", false, false);
  addUserElement(existing ?? domain.ele("metadata"), wanted);
}

/** The little of xmlbuilder2's DOM used here (the project compiles without lib "dom"). */
interface ParsedNode {
  nodeType: number;
  localName?: string;
  attributes?: ArrayLike<{ name: string; value: string }>;
  childNodes: ArrayLike<ParsedNode>;
}

const ELEMENT_NODE = 1;

/**
 * The user's element and every element inside it in the user's namespace, with the user's prefix:
 * what DOMAIN_SET_METADATA writes too, so a define and a live change read back alike.
 */
function addUserElement(metadata: XMLBuilder, wanted: DomainMetadata): void {
  const root = fragment(wanted.xml).first().node as unknown as ParsedNode;
  copyInto(metadata, root, wanted);
}

function copyInto(parent: XMLBuilder, source: ParsedNode, wanted: DomainMetadata): void {
  const node = parent.ele(wanted.namespace, `${wanted.prefix}:${source.localName}`);
  for (const attribute of Array.from(source.attributes ?? [])) {
    if (attribute.name !== "xmlns" && !attribute.name.startsWith("xmlns:"))
      node.att(attribute.name, attribute.value);
  }
  for (const child of Array.from(source.childNodes)) {
    if (child.nodeType === ELEMENT_NODE) copyInto(node, child, wanted);
    else node.import(builder(child as never));
  }
}

/** `<smbios mode='sysinfo'/>` in `<os>`, so the guest sees the sysinfo tables. */
export function addSmbiosMode(os: XMLBuilder, inputs: Inputs): void {
  if (inputs.sysinfo) os.ele("smbios", { mode: "sysinfo" });
}

/** Everything else, after `<os>`. `x86`: whether ACPI is on by default (it depends on arch). */
export function addMachine(domain: XMLBuilder, inputs: Inputs, x86: boolean): void {
  addMemoryBacking(domain, inputs);
  if (inputs.iothreads !== undefined) domain.ele("iothreads").txt(String(inputs.iothreads));
  addSysinfo(domain, inputs);
  addFeatures(domain, inputs, x86);
  addCpu(domain, inputs);
  const clock = inputs.clock;
  if (clock) {
    const node = domain.ele("clock", { offset: clock.offset ?? "utc" });
    for (const timer of clock.timers ?? []) {
      const timerNode = node.ele("timer", { name: timer.name });
      if (timer.tickPolicy) timerNode.att("tickpolicy", timer.tickPolicy);
      if (timer.present !== undefined) timerNode.att("present", timer.present ? "yes" : "no");
    }
  }
  if (inputs.onPoweroff) domain.ele("on_poweroff").txt(inputs.onPoweroff);
  if (inputs.onReboot) domain.ele("on_reboot").txt(inputs.onReboot);
  if (inputs.onCrash) domain.ele("on_crash").txt(inputs.onCrash);
}

function addMemoryBacking(domain: XMLBuilder, inputs: Inputs): void {
  const backing = inputs.memoryBacking;
  if (!backing) return;
  const node = domain.ele("memoryBacking");
  if (backing.hugepages) {
    const pages = node.ele("hugepages");
    const size = parseSize(backing.hugepageSize);
    if (size !== undefined) pages.ele("page", { size: String(size / 1024), unit: "KiB" });
  }
  if (backing.noSharePages) node.ele("nosharepages");
  if (backing.locked) node.ele("locked");
  if (backing.source) node.ele("source", { type: backing.source });
  if (backing.access) node.ele("access", { mode: backing.access });
}

function addSysinfo(domain: XMLBuilder, inputs: Inputs): void {
  const sysinfo = inputs.sysinfo;
  if (!sysinfo) return;
  const node = domain.ele("sysinfo", { type: "smbios" });
  for (const [block, names] of Object.entries(SYSINFO_BLOCKS)) {
    const values = sysinfo[block as keyof typeof SYSINFO_BLOCKS] as
      Record<string, string | undefined> | undefined;
    const given = names.filter((name) => values?.[name] !== undefined);
    if (given.length === 0) continue;
    const blockNode = node.ele(block);
    for (const name of given) blockNode.ele("entry", { name }).txt(values![name]!);
  }
  if (sysinfo.oemStrings?.length) {
    const oem = node.ele("oemStrings");
    for (const value of sysinfo.oemStrings) oem.ele("entry").txt(value);
  }
}

function addFeatures(domain: XMLBuilder, inputs: Inputs, x86: boolean): void {
  const features = inputs.features ?? {};
  const node = domain.ele("features");
  // ACPI's default depends on the architecture (x86 has it), so it is decided here, not in schema.
  if (features.acpi ?? x86) node.ele("acpi");
  if (features.apic) node.ele("apic");
  if (features.pae) node.ele("pae");
  const hyperv = features.hyperv;
  if (hyperv) {
    const hv = node.ele("hyperv", { mode: "custom" });
    for (const name of HYPERV_SWITCHES) {
      const value = hyperv[name];
      if (value !== undefined) hv.ele(name, { state: value ? "on" : "off" });
    }
    if (hyperv.spinlocks !== undefined)
      hv.ele("spinlocks", { state: "on", retries: String(hyperv.spinlocks) });
    if (hyperv.vendorId !== undefined) hv.ele("vendor_id", { state: "on", value: hyperv.vendorId });
  }
  if (features.smm !== undefined) node.ele("smm", { state: features.smm ? "on" : "off" });
}

function addCpu(domain: XMLBuilder, inputs: Inputs): void {
  const spec = inputs.cpu;
  if (!spec) return;
  const cpu = domain.ele("cpu", { mode: spec.mode });
  if (spec.model) {
    cpu.att("match", "exact");
    cpu.ele("model", spec.fallback ? { fallback: spec.fallback } : {}).txt(spec.model);
  }
  const topology = spec.topology;
  if (topology) {
    cpu.ele("topology", {
      sockets: String(topology.sockets),
      cores: String(topology.cores),
      threads: String(topology.threads),
    });
  }
  for (const feature of spec.features ?? []) {
    cpu.ele("feature", { policy: feature.policy, name: feature.name });
  }
  if (spec.numaCells?.length) {
    const numa = cpu.ele("numa");
    spec.numaCells.forEach((cell, id) => {
      const bytes = parseSize(cell.memory) ?? 0;
      numa.ele("cell", {
        id: String(id),
        cpus: cell.cpus,
        memory: String(bytes / 1024),
        unit: "KiB",
      });
    });
  }
}

// ---------------------------------------------------------------- reading back

export function readMachineXml(domain: XmlNode): MachineDescription {
  return {
    cpu: readCpu(element(domain, "cpu")),
    memoryBacking: readMemoryBacking(element(domain, "memoryBacking")),
    iothreads: numberOrUndefined(text(domain, "iothreads")),
    sysinfo: readSysinfo(
      elements(domain, "sysinfo").find((node) => attr(node, "type") === "smbios"),
    ),
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
