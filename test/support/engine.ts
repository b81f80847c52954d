/**
 * The Pulumi engine's step model for single resources, on top of the real dynamic-provider plugin
 * (pulumi-dynamic-providers.md §4, §6.1; in the engine: `step_generator.go`, `step.go`,
 * `step_executor.go`). Covered: check (old inputs, or `{}` for a new resource), diff with the
 * engine's own input diff on DIFF_UNKNOWN, create, same, update, replace in both orders (inputs
 * re-checked against empty olds), a targeted replace (`--replace`), partial failures (initErrors),
 * preview, refresh, get and destroy.
 * Not covered: ignoreChanges, replaceOnChanges, protect, aliases, plans, dependencies.
 *
 *   const engine = new Engine(plugin, { provider, config: { "virtwire:uri": uri } });
 *   const step = await engine.up("pulumi-nodejs:dynamic/libvirt:Pool", "p", { size: 1 });
 *   step.step; // "create" | "same" | "update" | "replace"
 *
 * The state (engine-state.ts) holds the default provider `pulumi:providers:pulumi-nodejs`, whose
 * inputs are the stack config, and then each resource, with secrets encrypted.
 */
import { randomUUID } from "node:crypto";
import { Checkpoint, EngineState, StateEntry } from "./engine-state";
import { DiffResult, PulumiPlugin, ResourceInitError } from "./pulumi-plugin";
import { isSecret, PropertyMap, renderPropertyValue, sameValue, secret } from "./pulumi-wire";
import type { SerializedProvider } from "./program-dir";

export type { EngineState, StateEntry } from "./engine-state";

export type StepKind = "create" | "same" | "update" | "replace";

export interface EngineOptions {
  /** `__provider` for every resource (from `serializeProvider`). */
  provider?: SerializedProvider;
  /** The stack config: namespaced keys (`virtwire:uri`) to strings. */
  config?: Record<string, string>;
  /** Which config keys are secret (`pulumi config set --secret`). */
  secretKeys?: string[];
}

export interface ResourceOptions {
  additionalSecretOutputs?: string[];
  /** The resource option; when given it wins over the provider's diff. */
  deleteBeforeReplace?: boolean;
  /** `__provider` for this resource instead of the engine's. */
  provider?: SerializedProvider;
  /**
   * `pulumi up --replace <urn>` (or a tainted resource): the inputs are checked without the old
   * ones, the provider's diff is not asked, and the resource is replaced, delete-first only when
   * `deleteBeforeReplace` says so (step_generator.go, isTargetedReplace).
   */
  replace?: boolean;
}

export interface StepRecord {
  step: StepKind;
  urn: string;
  /** Blank in a preview of a create or replace. */
  id: string;
  inputs: PropertyMap;
  outputs: PropertyMap;
  /** The diff the engine acted on (after the DIFF_UNKNOWN fallback); absent for a create. */
  diff?: DiffResult;
  /** The plugin calls in order, e.g. ["check", "diff", "check", "create", "delete"]. */
  calls: string[];
}

/** A failed step; `diagnostics` are the engine's error lines (check failures in its wording). */
export class StepError extends Error {
  override name = "StepError";
  constructor(
    readonly urn: string,
    readonly diagnostics: string[],
    options?: { cause?: unknown },
  ) {
    super(diagnostics.join("\n"), options);
  }
}

interface Plan {
  step: StepKind;
  checked: PropertyMap;
  diff?: DiffResult;
  old?: StateEntry;
}

const DEFAULT_PROVIDER_TYPE = "pulumi:providers:pulumi-nodejs";

/** The diff the engine makes up for a targeted replacement: the id changes, nothing else said. */
const TARGETED_REPLACE: DiffResult = {
  changes: "some",
  replaces: ["id"],
  stables: [],
  changedKeys: [],
  deleteBeforeReplace: false,
  hasDetailedDiff: false,
};

export class Engine {
  private readonly checkpoint = new Checkpoint();
  private configured?: Promise<void>;

  constructor(
    readonly plugin: PulumiPlugin,
    private readonly options: EngineOptions = {},
  ) {}

  urn(type: string, name: string): string {
    return this.plugin.urn(type, name);
  }

  /** The state as stored, secrets encrypted (a copy). */
  get state(): EngineState {
    return JSON.parse(this.checkpoint.json());
  }

  /** The stored state as JSON text, e.g. to search for secrets and paths or to measure. */
  stateJson(): string {
    return this.checkpoint.json();
  }

  /** A resource's state with secrets decrypted (as secret sentinels); throws if absent. */
  resource(urn: string): StateEntry {
    const entry = this.checkpoint.get(urn);
    if (!entry) throw new Error(`${urn} is not in the state`);
    return entry;
  }

  has(urn: string): boolean {
    return this.checkpoint.get(urn) !== undefined;
  }

  /**
   * Handshake, GetPluginInfo and Configure, once, before the first resource call (the engine
   * configures the default provider when the first resource needs it), and the default provider
   * into the state with the stack config as its inputs.
   */
  private ensureConfigured(): Promise<void> {
    this.configured ??= (async () => {
      const { config = {}, secretKeys = [] } = this.options;
      await this.plugin.handshake();
      await this.plugin.getPluginInfo();
      await this.plugin.configure(config, secretKeys);
      const inputs: PropertyMap = {};
      for (const [key, value] of Object.entries(config)) {
        inputs[key] = secretKeys.includes(key) ? secret(value) : value;
      }
      const urn = this.urn(DEFAULT_PROVIDER_TYPE, "default");
      const type = DEFAULT_PROVIDER_TYPE;
      this.checkpoint.put({ urn, type, custom: true, id: randomUUID(), inputs, outputs: inputs });
    })();
    return this.configured;
  }

  /** What `dynamic.Resource` registers: the props plus `__provider` (secret if it captured one). */
  private withProvider(inputs: PropertyMap, provider?: SerializedProvider): PropertyMap {
    if ("__provider" in inputs) {
      throw new Error("A dynamic resource must not define the __provider key");
    }
    const serialized = provider ?? this.options.provider;
    if (!serialized) throw new Error("no __provider: give EngineOptions.provider");
    const text = serialized.containsSecrets ? secret(serialized.text) : serialized.text;
    return { ...inputs, __provider: text };
  }

  private async check(urn: string, olds: PropertyMap, news: PropertyMap, preview: boolean) {
    const { inputs, failures } = await this.plugin.check(urn, olds, news, preview);
    if (failures.length === 0) return inputs;
    const { type, name } = parseUrn(urn);
    const lines = failures.map((failure) =>
      failure.property
        ? `${type} resource '${name}': property ${failure.property} value ` +
          `${renderPropertyValue(inputs[failure.property])} has a problem: ${failure.reason}`
        : `${type} resource '${name}' has a problem: ${failure.reason}`,
    );
    throw new StepError(urn, lines);
  }

  /** `diffResource`: the provider's diff, or the engine's own input diff on DIFF_UNKNOWN. */
  private async diff(urn: string, old: StateEntry, news: PropertyMap, preview: boolean) {
    const diff = await this.plugin.diff(urn, old.id, old.inputs, old.outputs, news, preview);
    if (diff.changes !== "unknown") return diff;
    const changedKeys = inputDiff(old.inputs, news);
    return { ...diff, changes: changedKeys.length > 0 ? "some" : "none", changedKeys } as const;
  }

  /** Check, then for an existing resource diff (and check again from `{}` for a replacement). */
  private async plan(
    urn: string,
    inputs: PropertyMap,
    options: ResourceOptions,
    preview: boolean,
    calls: string[],
  ): Promise<Plan> {
    await this.ensureConfigured();
    const news = this.withProvider(inputs, options.provider);
    const old = this.checkpoint.get(urn);
    calls.push("check");
    const olds = options.replace ? {} : (old?.inputs ?? {});
    let checked = await this.check(urn, olds, news, preview);
    if (!old) return { step: "create", checked };
    if (options.replace) return { step: "replace", checked, diff: TARGETED_REPLACE, old };
    calls.push("diff");
    const diff = await this.diff(urn, old, checked, preview);
    if (diff.changes === "some" && diff.replaces.length > 0) {
      calls.push("check");
      checked = await this.check(urn, {}, news, preview);
      return { step: "replace", checked, diff, old };
    }
    const retry = (old.initErrors?.length ?? 0) > 0; // a partial resource is updated again
    const step = diff.changes === "some" || retry ? "update" : "same";
    return { step, checked, diff, old };
  }

  /** `pulumi preview` for one resource: check and diff only; the state is unchanged. */
  async preview(
    type: string,
    name: string,
    inputs: PropertyMap,
    options: ResourceOptions = {},
  ): Promise<StepRecord> {
    const urn = this.urn(type, name);
    const calls: string[] = [];
    const { step, checked, diff, old } = await this.plan(urn, inputs, options, true, calls);
    // Without preview support the plugin is not called: outputs are the inputs (provider_plugin.go).
    const outputs = markSecret(step === "same" && old ? old.outputs : checked, options);
    const id = step === "update" || step === "same" ? (old?.id ?? "") : "";
    return { step, urn, id, inputs: checked, outputs, diff, calls };
  }

  /** `pulumi up` for one resource: the step the engine would run for these inputs. */
  async up(
    type: string,
    name: string,
    inputs: PropertyMap,
    options: ResourceOptions = {},
  ): Promise<StepRecord> {
    const urn = this.urn(type, name);
    const calls: string[] = [];
    await this.deletePending(urn, calls);
    const plan = await this.plan(urn, inputs, options, false, calls);
    const { step, checked, diff, old } = plan;
    const entry = (id: string, outputs: PropertyMap, initErrors?: string[]): StateEntry => ({
      urn,
      type,
      custom: true,
      id,
      inputs: checked,
      outputs: markSecret(outputs, options),
      ...(options.additionalSecretOutputs && {
        additionalSecretOutputs: options.additionalSecretOutputs,
      }),
      ...(initErrors && { initErrors }),
    });
    const done = (id: string, outputs: PropertyMap): StepRecord => {
      this.checkpoint.put(entry(id, outputs));
      return { step, urn, id, inputs: checked, outputs: this.resource(urn).outputs, diff, calls };
    };
    if (step === "same" && old) return done(old.id, old.outputs);
    if (step === "update" && old) {
      calls.push("update");
      const updated = await this.plugin
        .update(urn, old.id, old.inputs, old.outputs, checked)
        .catch((err) =>
          this.fail(urn, err, (init) => entry(old.id, init.properties, init.reasons)),
        );
      return done(old.id, updated.outputs);
    }
    const deleteFirst = options.deleteBeforeReplace ?? diff?.deleteBeforeReplace ?? false;
    if (old && deleteFirst) {
      calls.push("delete");
      await this.deleteResource(old);
      this.checkpoint.remove(urn);
    }
    calls.push("create");
    const created = await this.plugin.create(urn, checked).catch((err) =>
      this.fail(urn, err, (init) => {
        if (old && !deleteFirst) this.checkpoint.markPendingDelete(urn);
        return entry(init.id, init.properties, init.reasons);
      }),
    );
    if (!old || deleteFirst) return done(created.id, created.outputs);
    this.checkpoint.markPendingDelete(urn); // create-before-delete: the old one goes last
    const record = done(created.id, created.outputs);
    calls.push("delete");
    await this.deleteResource(old);
    this.checkpoint.remove(urn, true);
    return record;
  }

  /**
   * A failed create or update as a StepError. A partial failure (ErrorResourceInitFailed) first
   * records the resource with its initErrors, as the engine does.
   */
  private fail(urn: string, err: unknown, partial: (init: ResourceInitError) => StateEntry): never {
    if (err instanceof ResourceInitError) {
      this.checkpoint.put(partial(err));
      throw new StepError(urn, [`${urn}: ${err.message}`, ...err.reasons], { cause: err });
    }
    throw new StepError(urn, [`${urn}: ${(err as Error).message}`], { cause: err });
  }

  private async deleteResource(old: StateEntry): Promise<void> {
    try {
      await this.plugin.delete(old.urn, old.id, old.inputs, old.outputs);
    } catch (err) {
      const message = `${old.urn}: deleting failed: ${(err as Error).message}`;
      throw new StepError(old.urn, [message], { cause: err });
    }
  }

  /** Deletes replaced resources left by an earlier up whose delete failed (or never ran). */
  private async deletePending(urn: string, calls: string[]): Promise<void> {
    for (const pending of this.checkpoint.list().filter((e) => e.urn === urn && e.delete)) {
      calls.push("delete");
      await this.deleteResource(pending);
      this.checkpoint.remove(urn, true);
    }
  }

  private managed(urns?: string[]): StateEntry[] {
    return this.checkpoint
      .list()
      .filter((e) => e.type !== DEFAULT_PROVIDER_TYPE && (!urns || urns.includes(e.urn)));
  }

  /**
   * `pulumi refresh`: Read with the id, old inputs and old outputs. A blank id removes the
   * resource; returned inputs replace the old ones (3.216+). Then, as RefreshStep does to show
   * what changed (step.go, unless UseLegacyRefreshDiff), Diff with the refreshed inputs and
   * outputs as the olds and the old inputs as the news; its answer is only displayed.
   */
  async refresh(urns?: string[]): Promise<{ urn: string; deleted: boolean; changed: boolean }[]> {
    await this.ensureConfigured();
    const results = [];
    for (const old of this.managed(urns).filter((e) => !e.delete)) {
      const read = await this.plugin.read(old.urn, old.id, old.inputs, old.outputs);
      if (!read.id) {
        this.checkpoint.remove(old.urn);
        results.push({ urn: old.urn, deleted: true, changed: true });
        continue;
      }
      const outputs = markSecret(read.outputs, old);
      const changed = !sameValue(outputs, old.outputs);
      const inputs = read.inputs ?? old.inputs;
      await this.plugin.diff(old.urn, read.id, inputs, read.outputs, old.inputs);
      this.checkpoint.put({ ...old, id: read.id, inputs, outputs });
      results.push({ urn: old.urn, deleted: false, changed });
    }
    return results;
  }

  /** `get` (`opts.id`): Read with the program's props as both inputs and state; never deleted. */
  async get(type: string, name: string, id: string, props: PropertyMap = {}): Promise<StateEntry> {
    await this.ensureConfigured();
    const urn = this.urn(type, name);
    const inputs = this.withProvider(props);
    const read = await this.plugin.read(urn, id, inputs, inputs);
    if (!read.id) throw new StepError(urn, [`${urn}: resource '${id}' does not exist`]);
    const outputs = read.outputs;
    this.checkpoint.put({ urn, type, custom: true, id: read.id, inputs, outputs, external: true });
    return this.resource(urn);
  }

  /** `pulumi destroy`: Delete with the old outputs, newest first; returns the URNs removed. */
  async destroy(urns?: string[]): Promise<string[]> {
    await this.ensureConfigured();
    const removed = [];
    for (const old of this.managed(urns).reverse()) {
      if (!old.external) await this.deleteResource(old);
      this.checkpoint.remove(old.urn, old.delete === true);
      removed.push(old.urn);
    }
    return removed;
  }
}

function parseUrn(urn: string): { type: string; name: string } {
  const parts = urn.split("::");
  return { type: parts[2] ?? "", name: parts.slice(3).join("::") };
}

/** `additionalSecretOutputs`: the named top-level outputs become secret (never `id`). */
function markSecret(outputs: PropertyMap, options: { additionalSecretOutputs?: string[] }) {
  const result = { ...outputs };
  for (const key of options.additionalSecretOutputs ?? []) {
    const value = result[key];
    if (value !== undefined && !isSecret(value)) result[key] = secret(value);
  }
  return result;
}

/** The engine's diff of old and new inputs (`__provider` included): the changed keys. */
function inputDiff(olds: PropertyMap, news: PropertyMap): string[] {
  const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
  return [...keys].filter((key) => !sameValue(olds[key], news[key])).sort();
}
