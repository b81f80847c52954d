/**
 * Reading libvirt XML back: a thin layer over xmlbuilder2's object form, where an element is a
 * string (text only) or an object with `@attr` keys, `#` text and child elements (an array when
 * repeated). Resources build XML with xmlbuilder2's builder and read it with these helpers.
 *
 * The object form leaves `&amp;`, `&lt;`, `&gt;` and `&quot;` in its strings, and cannot tell
 * `&amp;` from `&amp;amp;`; and xmlbuilder2 decodes a character reference after an `&amp;` again
 * (`&amp;#65;` becomes `A`). So parseXml first swaps libvirt's `&amp;` for a character the document
 * does not hold, and then gives every string decoded: a path or name with `&`, `<`, `>` or quotes
 * reads back as it was given (found by the generated-inputs test: a pool in `/srv/a>b` read back
 * as `/srv/a&gt;b` and was replaced at every up).
 */
import { convert } from "./xmlbuilder";

export type XmlNode = Record<string, unknown> | string;

export function parseXml(xml: string, root: string): XmlNode {
  const ampersand = unusedCharacter(xml);
  const document = convert(xml.replaceAll("&amp;", ampersand), { format: "object" });
  const node = decodeStrings(document, ampersand) as Record<string, unknown>;
  if (node[root] === undefined) throw new Error(`expected a <${root}> document from libvirt`);
  return node[root] as XmlNode;
}

/** A noncharacter (U+FDD0–U+FDEF, never text anyone writes) that `xml` does not contain. */
function unusedCharacter(xml: string): string {
  for (let code = 0xfdd0; code <= 0xfdef; code++) {
    const character = String.fromCharCode(code);
    if (!xml.includes(character)) return character;
  }
  throw new Error("libvirt sent XML that holds every Unicode noncharacter U+FDD0–U+FDEF");
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Text with XML's predefined entities decoded, in one pass (`&amp;lt;` is `&lt;`). */
export function unescapeXml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos);/g, (_, entity: string) => ENTITIES[entity]!);
}

function decodeStrings(value: unknown, ampersand: string): unknown {
  if (typeof value === "string") return unescapeXml(value).replaceAll(ampersand, "&");
  if (Array.isArray(value)) return value.map((item) => decodeStrings(item, ampersand));
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, decodeStrings(item, ampersand)]),
  );
}

/**
 * Every child element as [name, element], in document order. The object form keeps children of
 * one name under that name while they are adjacent; when names interleave (`<b/><c/><b/>`, as in
 * libvirt 11's CPU model lists or a user's patches) it keeps them all, in order, as one-key objects
 * in an array under `#` (`#1`, `#2`… beside text).
 */
export function children(node: XmlNode | undefined): Array<[string, XmlNode]> {
  if (node === undefined || typeof node === "string") return [];
  const found: Array<[string, XmlNode]> = [];
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith("@")) continue;
    if (key.startsWith("#")) {
      if (!Array.isArray(value)) continue; // text
      for (const group of value) found.push(...children(group as XmlNode));
      continue;
    }
    for (const item of Array.isArray(value) ? value : [value]) found.push([key, item as XmlNode]);
  }
  return found;
}

/** Every child element called `name`. */
export function elements(node: XmlNode | undefined, name: string): XmlNode[] {
  return children(node)
    .filter(([key]) => key === name)
    .map(([, child]) => child);
}

/** The first child element called `name`. */
export function element(node: XmlNode | undefined, name: string): XmlNode | undefined {
  return elements(node, name)[0];
}

/** The text of an element, or of its child `name`. */
export function text(node: XmlNode | undefined, name?: string): string | undefined {
  const target = name === undefined ? node : element(node, name);
  if (target === undefined) return undefined;
  if (typeof target === "string") return target;
  const value = target["#"];
  return typeof value === "string" ? value : undefined;
}

export function attr(node: XmlNode | undefined, name: string): string | undefined {
  if (node === undefined || typeof node === "string") return undefined;
  const value = node[`@${name}`];
  return typeof value === "string" ? value : undefined;
}

/** A number from the text of child `name` (its `unit` attribute, if any, is not applied). */
export function numberText(node: XmlNode | undefined, name: string): number | undefined {
  const value = text(node, name);
  return value === undefined ? undefined : Number(value);
}
