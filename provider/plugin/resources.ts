/**
 * The resource methods of the plugin, on plain values, around the very provider the dynamic path
 * uses (dispatch.ts createProvider): one implementation of every kind. What differs is only where
 * the hidden inputs come from. A dynamic resource carries them (sdk/ adds `__kind`, `__urn`,
 * `__logicalName`); here the engine names the resource in every request, so they are derived from
 * its URN (`urn:pulumi:<stack>::<project>::<parent types$>virtwire:index:Domain::<name>`) and left
 * out of what goes back into the state. `__org`, which no request carries, comes with the inputs
 * from the TypeScript SDK; without it (other languages) the mark is the URN alone, as on a file
 * backend (resources/kit/owner.ts).
 */
import type { ChangeClass } from "../../resources/kit/resource";
import { resourceSchema } from "../../resources/kit/check";
import { deepEqual } from "../../resources/kit/diff";
import type { DispatchProvider } from "../dispatch";

type Props = Record<string, unknown>;

/** The hidden inputs derived from the URN, which are never stored on this path. */
const DERIVED = ["__kind", "__urn", "__logicalName"];

/** `Domain` for a URN of type `virtwire:index:Domain`; undefined for any other type. */
export function kindOf(urn: string): string | undefined {
  const type = urn.split("::")[2]?.split("$").pop() ?? "";
  const match = /^virtwire:index:([A-Za-z]+)$/.exec(type);
  return match?.[1];
}

function identity(urn: string): Props {
  const kind = kindOf(urn);
  if (!kind) throw new Error(`virtwire has no resource type ${urn.split("::")[2] ?? urn}`);
  return { __kind: kind, __urn: urn, __logicalName: urn.split("::").slice(3).join("::") };
}

/** Inputs as dispatch takes them: with the hidden identity of the resource. */
function asInputs(urn: string, props: Props): Props {
  return { ...props, ...identity(urn) };
}

/**
 * Outputs as dispatch takes them: with the kind only, as a dynamic resource's outputs are (read and
 * delete then work exactly alike on both paths).
 */
function asOutputs(urn: string, props: Props): Props {
  return { ...props, __kind: identity(urn).__kind };
}

/** What goes back to the engine: without what the URN says anyway. */
function stored(props: Props | undefined): Props {
  const copy = { ...(props ?? {}) };
  for (const key of DERIVED) delete copy[key];
  return copy;
}

export interface PluginDiff {
  changes: boolean;
  replaces: string[];
  deleteBeforeReplace: boolean;
  /** Each changed property and how its change is applied. */
  classes: Record<string, ChangeClass>;
}

export interface PluginRead {
  id: string;
  props?: Props;
  /** Only for an import: the inputs a program needs to describe the object as it is. */
  inputs?: Props;
}

export function pluginResources(provider: DispatchProvider) {
  return {
    async check(urn: string, olds: Props, news: Props) {
      const given = Object.keys(olds).length === 0 ? {} : asInputs(urn, olds);
      const result = await provider.check!(given, asInputs(urn, news));
      return { inputs: stored(result.inputs), failures: result.failures ?? [] };
    },

    async diff(id: string, urn: string, olds: Props, news: Props): Promise<PluginDiff> {
      const result = await provider.diff!(id, asOutputs(urn, olds), asInputs(urn, news));
      return {
        changes: result.changes === true,
        replaces: result.replaces ?? [],
        deleteBeforeReplace: result.deleteBeforeReplace === true,
        classes: result.classes ?? {},
      };
    },

    async create(urn: string, inputs: Props) {
      const result = await provider.create(asInputs(urn, inputs));
      return { id: result.id, outs: stored(result.outs) };
    },

    /**
     * A refresh sends the last outputs; an import (`pulumi import`) and a Get send nothing or only
     * what qualifies the lookup (`host`, a volume's `pool`), and dispatch then finds the object by
     * its id (resources/kit/get.ts). An import also gets the inputs that describe the object.
     */
    async read(id: string, urn: string, props: Props, importing: boolean): Promise<PluginRead> {
      const result = await provider.read!(id, asOutputs(urn, props));
      if (!result.id) return { id: "" };
      const outs = stored(result.props);
      const kind = identity(urn).__kind as string;
      return {
        id: result.id,
        props: outs,
        inputs: importing ? importInputs(kind, outs) : undefined,
      };
    },

    async update(id: string, urn: string, olds: Props, news: Props) {
      const result = await provider.update!(id, asOutputs(urn, olds), asInputs(urn, news));
      return { outs: stored(result.outs) };
    },

    async delete(id: string, urn: string, props: Props) {
      await provider.delete!(id, asOutputs(urn, props));
    },
  };
}

/**
 * The inputs of an imported object: its input properties as libvirt has them, without the ones
 * that only repeat schema.json's default (check fills those in again), so that the program
 * `pulumi import` prints is short and its first preview shows no changes.
 */
export function importInputs(kind: string, outs: Props): Props {
  const inputs: Props = {};
  for (const [name, property] of Object.entries(resourceSchema(kind).inputProperties)) {
    const value = outs[name];
    if (value === undefined || value === null) continue;
    if (property.default !== undefined && deepEqual(value, property.default)) continue;
    inputs[name] = value;
  }
  return inputs;
}
