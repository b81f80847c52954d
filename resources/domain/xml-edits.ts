/**
 * xmlEdits, the escape hatch that may change what virtwire manages: each edit selects nodes of the
 * domain XML virtwire built (resources/kit/xpath.ts) and sets their value, replaces them with
 * given XML, or removes them. Edits run in order, after xmlPatches, on virtwire's XML (not
 * libvirt's expansion of it), so what an XPath selects is known at preview: check() applies them
 * to the XML the inputs build, refuses an XPath that selects nothing, and diff() shows each edited
 * node before → after.
 */
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces";
import type { DomainXmlEdit } from "../kit/generated/types";
import { builder, fragment } from "../kit/xmlbuilder";
import {
  ATTRIBUTE_NODE,
  ELEMENT_NODE,
  TEXT_NODE,
  type XPath,
  type XPathNode,
  XPathSyntaxError,
  parseXPath,
  selectNodes,
} from "../kit/xpath";
import { wellFormedProblem } from "./patches";

/** An edit that cannot be applied; `index` is its place in xmlEdits. */
export class EditError extends Error {
  constructor(
    readonly index: number,
    reason: string,
  ) {
    super(`xmlEdits[${index}] ${reason}`);
  }
}

/** What one edit did, for the preview: each selected node as it was and as it is now. */
export interface EditOutcome {
  index: number;
  xpath: string;
  before: string[];
  after: string[];
}

/** The problem of one edit as written, before any XML exists: `undefined` when it is usable. */
export function editProblem(edit: DomainXmlEdit): string | undefined {
  const actions = [edit.value !== undefined, edit.xml !== undefined, edit.remove === true];
  if (actions.filter(Boolean).length !== 1) {
    return "needs exactly one of value, xml or remove: true";
  }
  let path: XPath;
  try {
    path = parseXPath(edit.xpath);
  } catch (error) {
    if (error instanceof XPathSyntaxError)
      return `xpath is outside the supported subset: ${error.message}`;
    throw error;
  }
  if (touchesPassword(path) || (edit.xml !== undefined && PASSWD_ATTRIBUTE.test(edit.xml))) {
    return PASSWORD_REFUSAL;
  }
  const last = path.steps[path.steps.length - 1];
  if (edit.xml !== undefined) {
    if (last && last.kind !== "element" && last.kind !== "parent" && last.kind !== "self") {
      return `replaces elements with xml, but ${JSON.stringify(edit.xpath)} selects ${last.kind === "text" ? "text" : "attributes"}: use value`;
    }
    const problem = wellFormedProblem(edit.xml);
    if (problem) return `xml is not well-formed XML: ${problem}`;
  }
  return undefined;
}

/**
 * The display password is graphicsPassword, a secret; an edit is kept in plain text (state, the
 * preview), so it may neither select nor set `passwd`.
 */
const PASSWORD_REFUSAL =
  "selects or sets the display password (passwd), which would then show in plain text in the preview and the state: use graphicsPassword, which is kept secret";

/** A `passwd` attribute in XML text, and its value (`passwd="…"` or `passwd='…'`). */
const PASSWD_ATTRIBUTE = /(\spasswd\s*=\s*)("[^"]*"|'[^']*')/;
const PASSWD_ATTRIBUTES = new RegExp(PASSWD_ATTRIBUTE.source, "g");

/** Whether a step or predicate of `path` names the `passwd` attribute. */
function touchesPassword(path: XPath): boolean {
  return path.steps.some(
    (step) =>
      (step.kind === "attribute" && step.name === "passwd") ||
      (step.kind === "element" &&
        step.predicates.some((test) => test.kind === "attribute" && test.name === "passwd")),
  );
}

/** Applies `edits` to the `<domain>` element in order; throws EditError for the first that fails. */
export function applyEdits(domain: XMLBuilder, edits: DomainXmlEdit[]): EditOutcome[] {
  const root = domain.node as unknown as XPathNode;
  return edits.map((edit, index) => {
    const problem = editProblem(edit);
    if (problem) throw new EditError(index, problem);
    const path = parseXPath(edit.xpath);
    let nodes = selectNodes(path, root);
    // `@*` names no attribute, yet selects `passwd` where there is one.
    if (nodes.some((node) => node.nodeType === ATTRIBUTE_NODE && node.nodeName === "passwd")) {
      throw new EditError(index, PASSWORD_REFUSAL);
    }
    const before = nodes.map(show);
    if (nodes.length === 0 && edit.value !== undefined) nodes = created(path, root);
    if (nodes.length === 0) {
      throw new EditError(
        index,
        `selects nothing: ${JSON.stringify(edit.xpath)} matches no node of the domain XML virtwire builds; fix the XPath or remove the edit`,
      );
    }
    if (nodes.includes(root) && edit.value === undefined) {
      throw new EditError(index, "would replace or remove <domain> itself");
    }
    const after = nodes.map((node) => change(node, edit));
    return { index, xpath: edit.xpath, before, after };
  });
}

/** A last step `@name` or `text()` that selects nothing, created on what the path before selects. */
function created(path: XPath, root: XPathNode): XPathNode[] {
  const last = path.steps[path.steps.length - 1];
  if (!last || (last.kind !== "attribute" && last.kind !== "text")) return [];
  if (last.kind === "attribute" && last.name === "*") return [];
  const owners = selectNodes({ ...path, steps: path.steps.slice(0, -1) }, root).filter(
    (node) => node.nodeType === ELEMENT_NODE,
  );
  return owners.map((owner) => {
    const element = owner as unknown as DomElement;
    if (last.kind === "attribute") {
      element.setAttribute(last.name, "");
      return element.getAttributeNode(last.name) as XPathNode;
    }
    return element.appendChild(element.ownerDocument.createTextNode("")) as XPathNode;
  });
}

/** The DOM calls edits make, beyond what XPath reads. */
interface DomElement {
  ownerDocument: {
    createTextNode(text: string): unknown;
    importNode(node: unknown, deep: boolean): unknown;
  };
  setAttribute(name: string, value: string): void;
  getAttributeNode(name: string): unknown;
  removeAttribute(name: string): void;
  appendChild(node: unknown): unknown;
  insertBefore(node: unknown, before: unknown): unknown;
  removeChild(node: unknown): unknown;
  textContent: string | null;
}

function change(node: XPathNode, edit: DomainXmlEdit): string {
  const parent = (node.ownerElement ?? node.parentNode) as unknown as DomElement;
  if (edit.remove) {
    if (node.nodeType === ATTRIBUTE_NODE) parent.removeAttribute(node.nodeName);
    else parent.removeChild(node);
    return "(removed)";
  }
  if (edit.value !== undefined) {
    (node as unknown as DomElement).textContent = edit.value;
    return show(node);
  }
  const replacement = parent.ownerDocument.importNode(fragment(edit.xml!).node, true);
  parent.insertBefore(replacement, node);
  parent.removeChild(node);
  return masked(edit.xml!.trim());
}

const LONGEST = 160;

/** XML text with the value of every `passwd` attribute (the display password) masked. */
export function masked(xml: string): string {
  return xml.replace(PASSWD_ATTRIBUTES, '$1"***"');
}

/**
 * A node as the preview shows it: `<vcpu>2</vcpu>`, `@cache="none"`, `"text"`; the display
 * password masked (before the cut, so no part of it shows).
 */
export function show(node: XPathNode): string {
  let shown: string;
  if (node.nodeType === ATTRIBUTE_NODE) {
    const value = node.nodeName === "passwd" ? "***" : node.textContent;
    shown = `@${node.nodeName}=${JSON.stringify(value)}`;
  } else if (node.nodeType === TEXT_NODE) shown = JSON.stringify(node.textContent);
  else shown = masked(builder(node as never).toString());
  return shown.length > LONGEST ? `${shown.slice(0, LONGEST - 1)}…` : shown;
}

/** The preview line of the edits: `[0] /domain/vcpu: <vcpu>2</vcpu> → <vcpu>4</vcpu>; …`. */
export function describeOutcomes(outcomes: EditOutcome[]): string {
  return outcomes
    .map((outcome) => {
      const before = outcome.before.length > 0 ? outcome.before.join(", ") : "(none)";
      return `[${outcome.index}] ${outcome.xpath}: ${before} → ${outcome.after.join(", ")}`;
    })
    .join("; ");
}
