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
import { convert } from "xmlbuilder2";

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

/** Every child element called `name`. */
export function elements(node: XmlNode | undefined, name: string): XmlNode[] {
  if (node === undefined || typeof node === "string") return [];
  const value = node[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]) as XmlNode[];
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
