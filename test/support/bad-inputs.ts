/**
 * Bad inputs as a user writes them, previewed through the real plugin (check, and diff for an
 * existing resource, as `pulumi preview` runs them): what the engine prints for each, and whether
 * anything appeared in libvirt meanwhile.
 *
 *   const refused = await refusal(virtwire.engine, "Network", "vwtest-bad-1f2e3d-4", args);
 *   refused.lines; // the engine's error lines, one per problem
 */
import type { Libvirt } from "../../rpc";
import { Inventory, inventory } from "../e2e/libvirt-inventory";
import { Engine, StepError } from "./engine";
import type { PropertyMap } from "./pulumi-wire";
import { resourceInputs, virtwireType } from "./virtwire-engine";

export interface BadInput {
  /** What is wrong, as the test name says it. */
  what: string;
  kind: string;
  args: PropertyMap;
  /** One pattern per line the engine prints, matched after the resource prefix, in order. */
  problems: RegExp[];
}

export interface Refusal {
  /** The lines the engine prints for the failed step. */
  lines: string[];
  /** The same lines without the `<type> resource '<name>' has a problem: ` prefix. */
  reasons: string[];
}

/** Previews `args` and returns how the preview failed; throws if it did not. */
export async function refusal(
  engine: Engine,
  kind: string,
  name: string,
  args: PropertyMap,
): Promise<Refusal> {
  const type = virtwireType(kind);
  try {
    await engine.preview(type, name, resourceInputs(kind, name, args));
  } catch (error) {
    const lines =
      error instanceof StepError ? error.diagnostics : [String((error as Error).message)];
    const prefix = `${type} resource '${name}' has a problem: `;
    const reasons = lines.map((line) =>
      line.startsWith(prefix) ? line.slice(prefix.length) : line,
    );
    return { lines, reasons };
  }
  throw new Error(`the preview of ${kind} ${name} passed; expected it to be refused`);
}

/**
 * What a user must never see in an error line: the engine's dump of a property value
 * (`value {[{map[…]}]}`), a stack frame, the plugin's `Error: X: Error: X`.
 */
export function noise(line: string): string | undefined {
  if (/ value \{.*\} has a problem/.test(line)) return "a dump of the property value";
  if (/\n\s+at |^\s+at \S+ \(/m.test(line)) return "a stack trace";
  if (/Error: .*: Error: /.test(line)) return "the message twice";
  return undefined;
}

/** The daemon's objects without those of other test runs (names `vwtest-…` not ours). */
export async function ownInventory(lv: Libvirt, ours: string): Promise<Inventory> {
  const keep = (name: string) => !name.includes("vwtest-") || name.includes(ours);
  const all = await inventory(lv);
  return {
    domains: all.domains.filter(keep).sort(),
    networks: all.networks.filter(keep).sort(),
    pools: all.pools.filter(keep).sort(),
    volumes: all.volumes.filter(keep).sort(),
  };
}
