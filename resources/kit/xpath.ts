/**
 * A small XPath 1.0 subset over a DOM (xmlbuilder2's), for the Domain's xmlEdits: enough to
 * address any element, attribute or text of a libvirt XML document, nothing that computes.
 *
 *   path       := "/" steps? | "//" steps | steps         absolute from the document, or relative
 *                                                         to the context element
 *   steps      := step (("/" | "//") step)*               "//" is descendant-or-self (any depth)
 *   step       := name predicate* | "*" predicate* | "@" name | "@*" | "text()" | "." | ".."
 *   predicate  := "[" integer "]"                         the n-th (1-based) of the step's matches
 *                                                         under one parent, as in XPath
 *               | "[" "@" name ("=" literal)? "]"         has the attribute (with that value)
 *               | "[" name ("=" literal)? "]"            has a child element (whose text is that)
 *               | "[" "text()" "=" literal "]"           whose own text is that
 *   literal    := '…' | "…"
 *
 * Names match exactly (no namespaces, no prefixes: `metadata`'s children are matched by their
 * qualified name). Results are in document order without duplicates. Everything else (axes,
 * functions, operators, unions) is a syntax error naming the offset, so a user learns at preview
 * that the expression is outside the subset rather than getting a silent non-match.
 */

/** The DOM as far as this module reads it (xmlbuilder2's nodes satisfy it). */
export interface XPathNode {
  nodeType: number;
  nodeName: string;
  parentNode: XPathNode | null;
  childNodes: ArrayLike<XPathNode>;
  attributes?: { length: number; item(index: number): XPathNode | null } | null;
  ownerElement?: XPathNode | null;
  textContent: string | null;
}

export const ELEMENT_NODE = 1;
export const ATTRIBUTE_NODE = 2;
export const TEXT_NODE = 3;

type Predicate =
  | { kind: "position"; position: number }
  | { kind: "attribute"; name: string; value?: string }
  | { kind: "child"; name: string; value?: string }
  | { kind: "text"; value: string };

export type Step =
  | { kind: "element"; name: string; predicates: Predicate[]; descendant: boolean }
  | { kind: "attribute"; name: string; descendant: boolean }
  | { kind: "text"; descendant: boolean }
  | { kind: "self" | "parent"; descendant: boolean };

export interface XPath {
  source: string;
  absolute: boolean;
  steps: Step[];
}

export class XPathSyntaxError extends Error {
  constructor(
    readonly expression: string,
    readonly offset: number,
    problem: string,
  ) {
    super(`${problem} at offset ${offset} of ${JSON.stringify(expression)}`);
  }
}

const NAME = /[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?/y;
const INTEGER = /[1-9]\d*/y;
const LITERAL = /'([^']*)'|"([^"]*)"/y;

export function parseXPath(source: string): XPath {
  let at = 0;
  const fail = (problem: string): never => {
    throw new XPathSyntaxError(source, at, problem);
  };
  const skipSpace = () => {
    while (source[at] === " ") at++;
  };
  const eat = (token: string) => {
    skipSpace();
    if (!source.startsWith(token, at)) return false;
    at += token.length;
    return true;
  };
  const match = (pattern: RegExp) => {
    skipSpace();
    pattern.lastIndex = at;
    const found = pattern.exec(source);
    if (found) at = pattern.lastIndex;
    return found;
  };
  const name = (what: string) => match(NAME)?.[0] ?? fail(`expected ${what}`);
  const literal = () => {
    const found = match(LITERAL) ?? fail("expected a quoted value");
    return found[1] ?? found[2]!;
  };
  const predicate = (): Predicate => {
    const position = match(INTEGER);
    if (position) return { kind: "position", position: Number(position[0]) };
    if (eat("text()")) {
      if (!eat("=")) fail("expected = after text()");
      return { kind: "text", value: literal() };
    }
    const attribute = eat("@");
    const key = name(attribute ? "an attribute name" : "a position, @attribute or element name");
    const value = eat("=") ? literal() : undefined;
    return { kind: attribute ? "attribute" : "child", name: key, value };
  };
  const step = (descendant: boolean): Step => {
    if (eat("..")) return { kind: "parent", descendant };
    if (eat(".")) return { kind: "self", descendant };
    if (eat("text()")) return { kind: "text", descendant };
    if (eat("@"))
      return { kind: "attribute", name: eat("*") ? "*" : name("an attribute name"), descendant };
    const element = eat("*") ? "*" : name("an element name, @attribute, text(), . or ..");
    const predicates: Predicate[] = [];
    while (eat("[")) {
      predicates.push(predicate());
      if (!eat("]")) fail("expected ]");
    }
    return { kind: "element", name: element, predicates, descendant };
  };

  skipSpace();
  if (source.trim() === "") fail("empty expression");
  const steps: Step[] = [];
  let absolute = false;
  let descendant = false;
  if (eat("//")) absolute = descendant = true;
  else if (eat("/")) absolute = true;
  skipSpace();
  if (absolute && !descendant && at === source.length) return { source, absolute, steps };
  for (;;) {
    steps.push(step(descendant));
    skipSpace();
    if (at === source.length) break;
    if (eat("//")) descendant = true;
    else if (eat("/")) descendant = false;
    else fail(`unexpected ${JSON.stringify(source[at])}`);
  }
  const terminal = steps.findIndex((s) => s.kind === "attribute" || s.kind === "text");
  if (terminal >= 0 && terminal < steps.length - 1) {
    throw new XPathSyntaxError(
      source,
      source.length,
      "an attribute or text() must be the last step",
    );
  }
  return { source, absolute, steps };
}

/**
 * The nodes `path` selects. `context` is the element a relative path starts from; an absolute
 * path starts from its document.
 */
export function selectNodes(path: XPath, context: XPathNode): XPathNode[] {
  let nodes = [path.absolute ? documentOf(context) : context];
  for (const step of path.steps) {
    const from = step.descendant ? unique(nodes.flatMap(descendantsOrSelf)) : nodes;
    nodes = unique(from.flatMap((node) => applyStep(step, node)));
  }
  return sortInDocumentOrder(nodes);
}

/** `selectNodes` from an expression. Throws XPathSyntaxError. */
export function select(expression: string, context: XPathNode): XPathNode[] {
  return selectNodes(parseXPath(expression), context);
}

function applyStep(step: Step, node: XPathNode): XPathNode[] {
  switch (step.kind) {
    case "self":
      return [node];
    case "parent":
      return node.parentNode ? [node.parentNode] : node.ownerElement ? [node.ownerElement] : [];
    case "text":
      return childList(node).filter((child) => child.nodeType === TEXT_NODE);
    case "attribute":
      return attributesOf(node).filter((a) => step.name === "*" || a.nodeName === step.name);
    case "element": {
      let found = childElements(node).filter((c) => step.name === "*" || c.nodeName === step.name);
      for (const predicate of step.predicates) found = filter(found, predicate);
      return found;
    }
  }
}

function filter(nodes: XPathNode[], predicate: Predicate): XPathNode[] {
  switch (predicate.kind) {
    case "position":
      return nodes.slice(predicate.position - 1, predicate.position);
    case "attribute":
      return nodes.filter((node) =>
        attributesOf(node).some(
          (a) =>
            a.nodeName === predicate.name &&
            (predicate.value === undefined || a.textContent === predicate.value),
        ),
      );
    case "child":
      return nodes.filter((node) =>
        childElements(node).some(
          (child) =>
            child.nodeName === predicate.name &&
            (predicate.value === undefined || child.textContent === predicate.value),
        ),
      );
    case "text":
      return nodes.filter((node) => ownText(node) === predicate.value);
  }
}

/** The concatenated text children of an element (not its descendants'). */
function ownText(node: XPathNode): string {
  return childList(node)
    .filter((child) => child.nodeType === TEXT_NODE)
    .map((child) => child.textContent ?? "")
    .join("");
}

function childList(node: XPathNode): XPathNode[] {
  return Array.from(node.childNodes ?? []);
}

function childElements(node: XPathNode): XPathNode[] {
  return childList(node).filter((child) => child.nodeType === ELEMENT_NODE);
}

function attributesOf(node: XPathNode): XPathNode[] {
  const list = node.nodeType === ELEMENT_NODE ? node.attributes : undefined;
  if (!list) return [];
  return Array.from({ length: list.length }, (_, i) => list.item(i)!);
}

function descendantsOrSelf(node: XPathNode): XPathNode[] {
  return [node, ...childElements(node).flatMap(descendantsOrSelf)];
}

function documentOf(node: XPathNode): XPathNode {
  let top = node;
  while (top.parentNode) top = top.parentNode;
  return top;
}

function unique(nodes: XPathNode[]): XPathNode[] {
  return [...new Set(nodes)];
}

/** Document order: by the path of child indexes from the root (attributes after their element). */
function sortInDocumentOrder(nodes: XPathNode[]): XPathNode[] {
  const keyOf = (node: XPathNode): number[] => {
    const key: number[] = [];
    let current: XPathNode = node;
    if (current.nodeType === ATTRIBUTE_NODE && current.ownerElement) {
      const owner = current.ownerElement;
      key.unshift(-1, attributesOf(owner).indexOf(current));
      current = owner;
    }
    while (current.parentNode) {
      key.unshift(childList(current.parentNode).indexOf(current));
      current = current.parentNode;
    }
    return key;
  };
  const keyed = nodes.map((node) => ({ node, key: keyOf(node) }));
  keyed.sort((a, b) => compareKeys(a.key, b.key));
  return keyed.map(({ node }) => node);
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    // An attribute (-1 marker) of an element sorts before that element's children.
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}
