/**
 * The raw-XML escape hatch: `xmlPatches: [{ parent: "devices", xml: "<rng model='virtio'>…</rng>" }]`
 * appends XML elements under an element of the generated domain XML. It is deliberately simple:
 * append only (never replace or remove), a parent path of plain element names (created when
 * missing), and nothing that virtwire manages itself, so a patch cannot fight a property or make
 * read-back ambiguous. check() refuses anything else, naming the patch.
 */
import { fragment } from "../kit/xmlbuilder";
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces";
import type { CheckFailure } from "../kit/resource";
import type { DomainXmlPatch } from "../kit/generated/types";
import { GUEST_AGENT_CHANNEL, isUnknown } from "./normalize";

/** Top-level elements virtwire writes under `<domain>`, and the property that sets each. */
const MANAGED_IN_DOMAIN: Record<string, string> = {
  name: "name",
  uuid: "the resource id",
  memory: "maxMemory",
  currentMemory: "memory",
  vcpu: "vcpu and maxVcpus",
  os: "firmware, kernel, initrd, cmdline and boot (or a patch with parent os)",
  cpu: "cpu (or a patch with parent cpu)",
  features: "a patch with parent features",
  devices: "a patch with parent devices",
};

/** Devices virtwire manages, and the property for each. */
const MANAGED_DEVICES: Record<string, string> = {
  disk: "disks or cloudInitDisk",
  interface: "networkInterfaces",
  graphics: "graphics",
  serial: "console",
  console: "console",
};

const MANAGED_IN_OS: Record<string, string> = {
  type: "arch and machine",
  kernel: "kernel",
  initrd: "initrd",
  cmdline: "cmdline",
  boot: "boot",
};

/** The managed elements under each parent that has some. */
const MANAGED_UNDER = new Map([
  [".", MANAGED_IN_DOMAIN],
  ["devices", MANAGED_DEVICES],
  ["os", MANAGED_IN_OS],
]);

export function checkPatches(patches: DomainXmlPatch[]): CheckFailure[] {
  return patches.flatMap((patch, index) => checkPatch(patch, `xmlPatches[${index}]`));
}

function checkPatch(patch: DomainXmlPatch, path: string): CheckFailure[] {
  if (isUnknown(patch.xml) || isUnknown(patch.parent)) return [];
  const fail = (property: string, reason: string) => [{ property: `${path}.${property}`, reason }];
  const segments = patch.parent === "." ? [] : patch.parent.split("/");
  if (segments[0] === "devices" && segments.length > 1) {
    return fail(
      "parent",
      `${path}.parent ${JSON.stringify(patch.parent)} reaches inside a device; patches go directly under devices`,
    );
  }
  if (
    segments.length > 0 &&
    ["name", "uuid", "memory", "currentMemory", "vcpu"].includes(segments[0]!)
  ) {
    return fail(
      "parent",
      `${path}.parent ${JSON.stringify(patch.parent)} is managed by virtwire: set ${MANAGED_IN_DOMAIN[segments[0]!]} instead`,
    );
  }
  const problem = wellFormedProblem(patch.xml);
  if (problem) return fail("xml", `${path}.xml is not well-formed XML: ${problem}`);
  const managed = MANAGED_UNDER.get(patch.parent) ?? {};
  const added = topLevelElements(patch.xml);
  for (const element of added) {
    const property = managed[element.name];
    if (property) {
      return fail(
        "xml",
        `${path}.xml adds <${element.name}> under ${patch.parent}, which virtwire manages: use ${property}`,
      );
    }
    if (
      element.name === "channel" &&
      patch.parent === "devices" &&
      element.source.includes(GUEST_AGENT_CHANNEL)
    ) {
      return fail("xml", `${path}.xml adds the guest agent channel: use qemuAgent: true`);
    }
  }
  if (added.length === 0) {
    return fail("xml", `${path}.xml has no element to append`);
  }
  return [];
}

/** A patch as messages name it: `<rng> under devices`, `<acpi>, <apic> under features`. */
export function describePatch(patch: DomainXmlPatch): string {
  const names = topLevelElements(patch.xml).map((element) => `<${element.name}>`);
  return `${names.join(", ") || "no element"} under ${patch.parent === "." ? "<domain>" : patch.parent}`;
}

/** The names of the elements patches add directly under `<devices>`: `rng`, `watchdog`, … */
export function patchedDevices(patches: DomainXmlPatch[]): Set<string> {
  return new Set(
    patches
      .filter((patch) => patch.parent === "devices" && !isUnknown(patch.xml))
      .flatMap((patch) => topLevelElements(patch.xml).map((element) => element.name)),
  );
}

/** Appends each patch's elements under its parent, creating missing parents. */
export function applyPatches(domain: XMLBuilder, patches: DomainXmlPatch[]): void {
  for (const patch of patches) {
    let parent = domain;
    for (const name of patch.parent === "." ? [] : patch.parent.split("/")) {
      parent = childElement(parent, name) ?? parent.ele(name);
    }
    parent.import(fragment(patch.xml));
  }
}

function childElement(node: XMLBuilder, name: string): XMLBuilder | undefined {
  return node.find((child) => child.node.nodeName === name, false, false);
}

interface TopLevelElement {
  name: string;
  source: string;
}

const TOKEN =
  /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|<|>/g;

/**
 * A strict well-formedness check: balanced tags, quoted attributes, no stray `<`. (xmlbuilder2's
 * parser accepts unbalanced fragments silently, and libvirt would then see something else.)
 */
export function wellFormedProblem(xml: string): string | undefined {
  const open: string[] = [];
  for (const match of xml.matchAll(TOKEN)) {
    const [token, closing, name, , selfClosing] = match;
    if (name === undefined) {
      if (token === "<") return `a "<" at offset ${match.index} does not start a valid tag`;
      continue;
    }
    if (closing) {
      const expected = open.pop();
      if (expected !== name) {
        return expected ? `</${name}> closes <${expected}>` : `</${name}> has no opening tag`;
      }
    } else if (!selfClosing) {
      open.push(name);
    }
  }
  return open.length > 0 ? `<${open[open.length - 1]}> is never closed` : undefined;
}

function topLevelElements(xml: string): TopLevelElement[] {
  const result: TopLevelElement[] = [];
  let depth = 0;
  let start = 0;
  let current = "";
  for (const match of xml.matchAll(TOKEN)) {
    const [token, closing, name, , selfClosing] = match;
    if (name === undefined) continue;
    if (!closing && depth === 0) {
      current = name;
      start = match.index;
    }
    if (closing) depth--;
    else if (!selfClosing) depth++;
    if (depth === 0)
      result.push({ name: current, source: xml.slice(start, match.index + token.length) });
  }
  return result;
}
