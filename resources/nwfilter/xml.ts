/**
 * Network filter XML (https://libvirt.org/formatnwfilter.html), built from an NwFilter's inputs
 * and read back from libvirt's description:
 *
 *   <filter name="…" chain="ipv4" priority="-700">
 *     <uuid>…</uuid>
 *     <filterref filter="clean-traffic"> <parameter name="IP" value="10.0.0.5"/> </filterref>
 *     <rule action="accept" direction="in" priority="500">
 *       <tcp srcipaddr="10.0.0.0" srcipmask="24" dstportstart="22"/>
 *     </rule>
 *   </filter>
 *
 * libvirt keeps filter references and rules in document order; virtwire writes the references
 * first. A rule's match attributes are the attributes of its one protocol element.
 */
import { create } from "../kit/xmlbuilder";
import type {
  NwFilterInputs,
  NwFilterMatch,
  NwFilterRef,
  NwFilterRule,
} from "../kit/generated/types";
import { attr, children, elements, parseXml, text } from "../kit/xml";
import type { XmlNode } from "../kit/xml";

/** Match attributes whose values are numbers (the schema's integers). */
const NUMERIC = new Set<keyof NwFilterMatch>([
  "srcipmask",
  "dstipmask",
  "srcportstart",
  "srcportend",
  "dstportstart",
  "dstportend",
  "type",
  "code",
]);

export function buildNwFilterXml(inputs: NwFilterInputs, uuid?: string): string {
  const filter = create().ele("filter", { name: inputs.name! });
  if (inputs.chain !== undefined) filter.att("chain", inputs.chain);
  if (inputs.priority !== undefined) filter.att("priority", String(inputs.priority));
  if (uuid) filter.ele("uuid").txt(uuid);
  for (const ref of inputs.filterRefs ?? []) {
    const node = filter.ele("filterref", { filter: ref.filter });
    for (const [name, value] of Object.entries(ref.parameters ?? {}))
      node.ele("parameter", { name, value });
  }
  for (const rule of inputs.rules ?? []) {
    const node = filter.ele("rule", { action: rule.action, direction: rule.direction });
    if (rule.priority !== undefined) node.att("priority", String(rule.priority));
    const match: Record<string, string> = {};
    for (const [name, value] of Object.entries(rule.match ?? {}))
      if (value !== undefined && value !== null) match[name] = String(value);
    node.ele(rule.protocol, match);
  }
  return filter.end({ headless: true, prettyPrint: true });
}

interface NwFilterDescription {
  name: string;
  uuid: string;
  chain?: string;
  priority?: number;
  rules: NwFilterRule[];
  filterRefs: NwFilterRef[];
}

export function readNwFilterXml(xml: string): NwFilterDescription {
  const filter = parseXml(xml, "filter");
  const priority = attr(filter, "priority");
  return {
    name: attr(filter, "name") ?? "",
    uuid: text(filter, "uuid") ?? "",
    chain: attr(filter, "chain"),
    priority: priority === undefined ? undefined : Number(priority),
    filterRefs: elements(filter, "filterref").map(readRef),
    rules: elements(filter, "rule").map(readRule),
  };
}

function readRef(node: XmlNode): NwFilterRef {
  const parameters: Record<string, string> = {};
  for (const parameter of elements(node, "parameter"))
    parameters[attr(parameter, "name") ?? ""] = attr(parameter, "value") ?? "";
  const ref: NwFilterRef = { filter: attr(node, "filter") ?? "" };
  if (Object.keys(parameters).length > 0) ref.parameters = parameters;
  return ref;
}

function readRule(node: XmlNode): NwFilterRule {
  const priority = attr(node, "priority");
  const [protocol, element] = children(node)[0] ?? ["all", undefined];
  const match: Record<string, string | number> = {};
  if (element !== undefined && typeof element === "object") {
    for (const [key, value] of Object.entries(element)) {
      if (!key.startsWith("@") || typeof value !== "string") continue;
      const name = key.slice(1) as keyof NwFilterMatch;
      match[name] = NUMERIC.has(name) ? Number(value) : value;
    }
  }
  return {
    action: attr(node, "action") ?? "",
    direction: attr(node, "direction") ?? "",
    ...(priority === undefined ? {} : { priority: Number(priority) }),
    protocol,
    match: match as NwFilterMatch,
  };
}
