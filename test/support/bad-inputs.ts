/**
 * Bad inputs as a user writes them, previewed through the real plugin (check, and diff for an
 * existing resource, as `pulumi preview` runs them): what the engine prints for each, and whether
 * anything appeared in libvirt meanwhile.
 *
 *   const refused = await refusal(virtwire.engine, "Network", "vwtest-bad-1f2e3d-4", args);
 *   refused.lines; // the engine's error lines, one per problem
 *   describeBadInputs("a bad Network input", run, cases); // a test file's whole table
 */
import type { Libvirt } from "../../rpc";
import { Inventory, inventory } from "../e2e/libvirt-inventory";
import { Engine, StepError } from "./engine";
import type { PropertyMap } from "./pulumi-wire";
import { connectTestbed } from "./testbed";
import { VirtwireEngine, resourceInputs, virtwireType } from "./virtwire-engine";

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

/**
 * The daemon's objects of this run: those whose names hold `ours` (every resource of a run is
 * named `<run>-…`, and so are the names virtwire derives from it). Other tests share the daemon
 * and make objects of their own names meanwhile, which are not this run's leftovers.
 */
export async function ownInventory(lv: Libvirt, ours: string): Promise<Inventory> {
  const keep = (name: string) => name.includes(ours);
  const all = await inventory(lv);
  return {
    domains: all.domains.filter(keep).sort(),
    networks: all.networks.filter(keep).sort(),
    pools: all.pools.filter(keep).sort(),
    volumes: all.volumes.filter(keep).sort(),
    secrets: all.secrets.filter(keep).sort(),
  };
}

/**
 * A test file's table of bad inputs, on a plugin of its own: one test per input (refused at
 * preview with one clean line per problem, the resource named `<run>-<index>`), then `more` tests
 * on the same plugin, then one that nothing of the run appeared in libvirt and that the plugin
 * printed no stack trace.
 */
export function describeBadInputs(
  title: string,
  run: string,
  cases: BadInput[],
  more?: (virtwire: () => VirtwireEngine) => void,
): void {
  let virtwire: VirtwireEngine;
  let lv: Libvirt;
  let before: Inventory;

  beforeAll(async () => {
    virtwire = await VirtwireEngine.start();
    lv = await connectTestbed();
    before = await ownInventory(lv, run);
  });

  afterAll(async () => {
    await virtwire?.close();
    await lv?.close();
  });

  describe(title, () => {
    it.each(cases.map((c, index) => ({ ...c, index })))(
      "is refused at preview: $what ($kind)",
      async ({ kind, args, problems, index }) => {
        const name = `${run}-${index}`;
        const { lines, reasons } = await refusal(virtwire.engine, kind, name, args);
        const prefix = `${virtwireType(kind)} resource '${name}' has a problem: `;
        expect(lines.filter((line) => !line.startsWith(prefix) || noise(line))).toEqual([]);
        expect(reasons).toEqual(problems.map((problem) => expect.stringMatching(problem)));
      },
    );

    more?.(() => virtwire);

    it("leaves nothing in libvirt, and no stack trace in the plugin's output", async () => {
      expect(await ownInventory(lv, run)).toEqual(before);
      const printed = virtwire.logs.filter((line) => /^\s+at /.test(line) || line.includes(run));
      expect(printed).toEqual([]);
    });
  });
}
