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
 *   <sysinfo type="fwcfg"> <entry name="opt/com.coreos/config|opt/org.opensuse.combustion/script"
 *                                 file/>* </sysinfo>                        (ignition, combustion)
 *   <os> … <smbios mode="sysinfo"/> </os>
 *   <features> <acpi/>? <apic/>? <pae/>? <hyperv mode="custom"> <relaxed state="on|off"/> …
 *              <spinlocks state="on" retries/> <vendor_id state="on" value/> </hyperv>? <smm state/>? </features>
 *   <cpu mode match?> <model fallback?/>? <topology sockets dies? cores threads/>?
 *                     <feature policy name/>* <numa> <cell id cpus memory unit="KiB"/>* </numa>? </cpu>
 *   <clock offset> <timer name present? tickpolicy?/>* </clock>
 *   <on_poweroff/> <on_reboot/> <on_crash/>
 *
 * Reading them back: xml-machine-read.ts. The user's metadata element, and every element inside
 * it, is written in the user's namespace with the user's prefix, as DomainSetMetadata writes it;
 * virtwire's own element is found by its namespace (owner.ts), which check() refuses for the user's.
 */
import { builder, fragment } from "../kit/xmlbuilder";
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces";
import type { DomainMetadata } from "../kit/generated/types";
import type { CheckedDomainInputs } from "../kit/generated/checked";
import { parseSize } from "../kit/units";

type Inputs = Partial<CheckedDomainInputs>;

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
  addFwCfg(domain, inputs);
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

/**
 * The fw_cfg files where first-boot tools look for their config: Ignition (Fedora CoreOS, Flatcar)
 * and Combustion (openSUSE MicroOS, which reads it before looking for a config drive).
 */
export const FW_CFG_FILES = {
  ignition: "opt/com.coreos/config",
  combustion: "opt/org.opensuse.combustion/script",
} as const;

function addFwCfg(domain: XMLBuilder, inputs: Inputs): void {
  const given = (Object.keys(FW_CFG_FILES) as Array<keyof typeof FW_CFG_FILES>).filter(
    (key) => inputs[key],
  );
  if (given.length === 0) return;
  const node = domain.ele("sysinfo", { type: "fwcfg" });
  for (const key of given) node.ele("entry", { name: FW_CFG_FILES[key], file: inputs[key]!.path });
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
