/**
 * Reading libvirt XML back: a thin layer over xmlbuilder2's object form, where an element is a
 * string (text only) or an object with `@attr` keys, `#` text and child elements (an array when
 * repeated). Resources build XML with xmlbuilder2's builder and read it with these helpers.
 */
import { convert } from "xmlbuilder2";

export type XmlNode = Record<string, unknown> | string;

export function parseXml(xml: string, root: string): XmlNode {
  const document = convert(xml, { format: "object" }) as Record<string, unknown>;
  const node = document[root];
  if (node === undefined) throw new Error(`expected a <${root}> document from libvirt`);
  return node as XmlNode;
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
