/**
 * Random inputs that schema.json accepts, for property-based tests: a walk over a resource's
 * `inputProperties` and the types they refer to that makes values of the schema's types within
 * its rules (enums, `language.virtwire` patterns, bounds and byte sizes, required properties),
 * seeded and reproducible. What the schema cannot know (which kernel, pool or file exists on the
 * host) a test gives as hints, by property path:
 *
 *   const random = new Random(seed);
 *   const args = schemaInputs("Pool", random, {
 *     type: () => "dir",
 *     targetPath: (r) => `${scratch}/${r.matching("^[a-z]{1,8}$")}`,
 *     "permissions.owner": (r, generate) => (r.chance(0.5) ? generate() : 0),
 *   });
 *
 * A hint returns the value, or undefined to leave the property out; `generate()` gives what the
 * schema alone would. Paths name array items with `[]`: `disks[].file`.
 */
import { schema } from "../../resources/kit/generated/schema";
import type { PropertySchema, TypeSchema } from "../../resources/kit/schema-types";

export type Hint = (random: Random, generate: () => unknown) => unknown;
export type Hints = Record<string, Hint>;

/** A seeded pseudo-random source (mulberry32): the same seed gives the same draws. */
export class Random {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A whole number in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }

  /** Hex digits, for names. */
  hex(digits: number): string {
    return Array.from({ length: digits }, () => this.int(0, 15).toString(16)).join("");
  }

  /** A string that matches `pattern` (the regular expression subset schema.json uses). */
  matching(pattern: string): string {
    return generateMatch(compile(pattern), this);
  }

  /** A string without rules: any length up to `max`, XML and shell specials and non-ASCII. */
  text(max = 12): string {
    return Array.from({ length: this.int(0, max) }, () => this.pick(UNIVERSE)).join("");
  }
}

/**
 * The characters drawn for free text, `.` and negated classes: printable ASCII (XML's `<>&'"`
 * included), whitespace, and letters outside ASCII up to a character outside the BMP.
 */
const UNIVERSE: readonly string[] = [
  ...Array.from({ length: 95 }, (_, index) => String.fromCharCode(32 + index)),
  "\t",
  "\n",
  "é",
  "ß",
  "Ω",
  "中",
  "\u00a0",
  "\u200b",
  "😀",
];

/** Inputs for a `kind` (`Pool`, `Domain`…) that schema.json accepts, hints applied. */
export function schemaInputs(
  kind: string,
  random: Random,
  hints: Hints = {},
): Record<string, unknown> {
  const resource = schema.resources[`virtwire:index:${kind}`];
  if (!resource) throw new Error(`schema.json has no resource ${kind}`);
  const walker = new Walker(random, hints);
  return walker.object(resource.inputProperties, resource.requiredInputs ?? [], "");
}

/** How many items an array gets, and how often an optional property is set. */
const MAX_ITEMS = 3;
const OPTIONAL_CHANCE = 0.5;

class Walker {
  constructor(
    private readonly random: Random,
    private readonly hints: Hints,
  ) {}

  object(
    properties: Record<string, PropertySchema>,
    required: readonly string[],
    prefix: string,
  ): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    for (const [name, property] of Object.entries(properties)) {
      const path = prefix ? `${prefix}.${name}` : name;
      const generate = () => this.value(property, path);
      const hint = this.hints[path];
      const isRequired = required.includes(name);
      const value = hint
        ? hint(this.random, generate)
        : isRequired || this.random.chance(OPTIONAL_CHANCE)
          ? generate()
          : undefined;
      if (value !== undefined) result[name] = value;
    }
    return result;
  }

  value(property: PropertySchema, path: string): unknown {
    const rules = property.language?.virtwire ?? {};
    if (rules.units === "bytes") return this.size();
    if (property.$ref) return this.typed(typeOf(property.$ref), path);
    if (property.oneOf) return this.value(this.random.pick(property.oneOf), path);
    switch (property.type) {
      case "string":
        return rules.pattern ? this.random.matching(rules.pattern) : this.random.text();
      case "integer":
        return this.integer(rules.minimum ?? -(2 ** 31), rules.maximum);
      case "number":
        return this.integer(rules.minimum ?? -(2 ** 31), rules.maximum) + this.random.next();
      case "boolean":
        return this.random.chance(0.5);
      case "array":
        return Array.from({ length: this.random.int(0, MAX_ITEMS) }, () =>
          this.item(property.items!, `${path}[]`),
        );
      case "object":
        return Object.fromEntries(
          Array.from({ length: this.random.int(0, 2) }, () => [
            this.random.matching("^[a-z][a-z0-9]{0,7}$"),
            this.value(property.additionalProperties ?? { type: "string" }, `${path}{}`),
          ]),
        );
      default:
        throw new Error(`${path}: the generator knows no schema type ${String(property.type)}`);
    }
  }

  /** An array item: its hint (`disks[]`) if any, else the schema's. */
  private item(items: PropertySchema, path: string): unknown {
    const hint = this.hints[path];
    const generate = () => this.value(items, path);
    return hint ? hint(this.random, generate) : generate();
  }

  private typed(type: TypeSchema, path: string): unknown {
    if (type.enum) return this.random.pick(type.enum).value;
    return this.object(type.properties ?? {}, type.required ?? [], path);
  }

  /** Near the minimum, a middling number, or one near the maximum (2^53 - 1 without one). */
  private integer(minimum: number, maximum = Number.MAX_SAFE_INTEGER): number {
    const span = Math.min(maximum - minimum, 2 ** 31);
    switch (this.random.int(0, 2)) {
      case 0:
        return minimum + this.random.int(0, Math.min(3, maximum - minimum));
      case 1:
        return minimum + Math.floor(this.random.next() * span);
      default:
        return maximum - this.random.int(0, Math.min(3, maximum - minimum));
    }
  }

  /** A byte size as users write them: a number, or a string with one of libvirt's units. */
  private size(): number | string {
    const units = ["", "B", "KiB", "K", "KB", "MiB", "M", "MB", "GiB", "G", "GB", "TiB", "PiB"];
    if (this.random.chance(0.3)) return this.integer(0);
    const spacing = this.random.pick(["", " "]);
    return `${this.random.int(0, 4096)}${spacing}${this.random.pick(units)}`;
  }
}

function typeOf(ref: string): TypeSchema {
  const type = schema.types?.[ref.replace(/^#\/types\//, "")];
  if (!type) throw new Error(`schema.json refers to a missing type ${ref}`);
  return type;
}

// --- strings that match a pattern -----------------------------------------------------------
// The subset of regular expressions schema.json's patterns use: anchors, groups (capturing or
// not), alternation, classes with ranges and negation, the escapes \s \d \w \. \uXXXX, and the
// quantifiers ? * + {m} {m,} {m,n}. Unbounded repetition stops after a few more items.

type Node =
  | { kind: "alternatives"; options: Node[][] }
  | { kind: "characters"; choices: readonly string[] }
  | { kind: "repeat"; node: Node; min: number; max: number };

/** How many more items `*`, `+` and `{m,}` make at most. */
const UNBOUNDED_EXTRA = 6;
/** A long repetition is mostly short: up to this many more than its minimum, usually. */
const SHORT_REPEAT = 8;

const compiled = new Map<string, Node>();

function compile(pattern: string): Node {
  let node = compiled.get(pattern);
  if (!node) {
    const parser = new PatternParser(pattern);
    node = parser.alternatives();
    if (!parser.done()) throw new Error(`cannot generate strings for the pattern ${pattern}`);
    compiled.set(pattern, node);
  }
  return node;
}

function generateMatch(node: Node, random: Random): string {
  switch (node.kind) {
    case "alternatives":
      return random
        .pick(node.options)
        .map((part) => generateMatch(part, random))
        .join("");
    case "characters":
      return random.pick(node.choices);
    case "repeat": {
      const short = node.max - node.min > SHORT_REPEAT && random.chance(0.6);
      const count = random.int(node.min, short ? node.min + SHORT_REPEAT : node.max);
      return Array.from({ length: count }, () => generateMatch(node.node, random)).join("");
    }
  }
}

const CLASS_ESCAPES: Record<string, readonly string[]> = {
  s: [" ", "\t", "\n"],
  d: [..."0123456789"],
  w: [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"],
};

class PatternParser {
  private at = 0;

  constructor(private readonly pattern: string) {}

  done(): boolean {
    return this.at === this.pattern.length;
  }

  alternatives(): Node {
    const options = [this.sequence()];
    while (this.pattern[this.at] === "|") {
      this.at++;
      options.push(this.sequence());
    }
    return { kind: "alternatives", options };
  }

  private sequence(): Node[] {
    const nodes: Node[] = [];
    while (!this.done() && !["|", ")"].includes(this.pattern[this.at]!)) {
      const atom = this.atom();
      if (atom) nodes.push(this.quantified(atom));
    }
    return nodes;
  }

  private quantified(node: Node): Node {
    const repeat = (min: number, max: number): Node => ({ kind: "repeat", node, min, max });
    const char = this.pattern[this.at];
    const bounds = /^\{(\d+)(,(\d*))?\}/.exec(this.pattern.slice(this.at));
    if (char === "?" || char === "*" || char === "+") this.at++;
    if (char === "?") return repeat(0, 1);
    if (char === "*") return repeat(0, UNBOUNDED_EXTRA);
    if (char === "+") return repeat(1, 1 + UNBOUNDED_EXTRA);
    if (!bounds) return node;
    this.at += bounds[0].length;
    const min = Number(bounds[1]);
    if (bounds[2] === undefined) return repeat(min, min);
    return repeat(min, bounds[3] === "" ? min + UNBOUNDED_EXTRA : Number(bounds[3]));
  }

  private atom(): Node | undefined {
    const char = this.pattern[this.at++]!;
    if (char === "^" || char === "$") return undefined;
    if (char === "(") {
      if (this.pattern.startsWith("?:", this.at)) this.at += 2;
      const inner = this.alternatives();
      if (this.pattern[this.at++] !== ")") throw new Error(`unbalanced ( in ${this.pattern}`);
      return inner;
    }
    if (char === "[") return { kind: "characters", choices: this.characterClass() };
    if (char === ".") return { kind: "characters", choices: UNIVERSE.filter((c) => c !== "\n") };
    if (char === "\\") return { kind: "characters", choices: this.escape() };
    return { kind: "characters", choices: [char] };
  }

  private escape(): readonly string[] {
    const char = this.pattern[this.at++]!;
    if (CLASS_ESCAPES[char]) return CLASS_ESCAPES[char];
    if (char === "u") {
      const code = parseInt(this.pattern.slice(this.at, this.at + 4), 16);
      this.at += 4;
      return [String.fromCharCode(code)];
    }
    return [char];
  }

  private characterClass(): readonly string[] {
    const negated = this.pattern[this.at] === "^";
    if (negated) this.at++;
    const members = new Set<string>();
    while (this.pattern[this.at] !== "]") {
      if (this.done()) throw new Error(`unbalanced [ in ${this.pattern}`);
      const first = this.classMember();
      const isRange =
        first.length === 1 && this.pattern[this.at] === "-" && this.pattern[this.at + 1] !== "]";
      if (!isRange) {
        first.forEach((char) => members.add(char));
        continue;
      }
      this.at++;
      const [last] = this.classMember();
      for (let code = first[0]!.charCodeAt(0); code <= last!.charCodeAt(0); code++) {
        members.add(String.fromCharCode(code));
      }
    }
    this.at++;
    return negated ? UNIVERSE.filter((char) => !members.has(char)) : [...members];
  }

  private classMember(): readonly string[] {
    const char = this.pattern[this.at++]!;
    return char === "\\" ? this.escape() : [char];
  }
}
