/**
 * virtwire's resources driven through the real dynamic-provider plugin of @pulumi/pulumi over gRPC,
 * with the engine's step model (engine.ts) on top: what resource lifecycle tests drive instead of
 * calling handlers. The virtwire package is packed and installed into a program directory like a
 * user's install (once per test file), and `__provider` is the `require("virtwire/provider")` stub.
 *
 *   const virtwire = await VirtwireEngine.start(); // the test bed's URI as virtwire:uri
 *   const step = await virtwire.up("Pool", "images", { type: "dir", targetPath });
 *   await virtwire.refresh("images"); // "same" | "changed" | "deleted"
 *   virtwire.engine.preview(...); // the step model itself, by type token and props
 *   await virtwire.close(); // destroys what is left, stops the plugin
 *
 * Steps by kind and name return outputs with secrets revealed; the state (`virtwire.engine`) keeps
 * them marked, as the generated sdk/ classes have them (SECRET_OUTPUTS).
 */
import { randomBytes } from "node:crypto";
import { schema } from "../../resources/kit/generated/schema";
import { Engine, EngineOptions, ResourceOptions } from "./engine";
import {
  packVirtwire,
  prepareProgramDir,
  SerializedProvider,
  serializeProvider,
} from "./program-dir";
import { PulumiPlugin } from "./pulumi-plugin";
import { PropertyMap, reveal } from "./pulumi-wire";
import { TEST_URI } from "./testbed";

/** `pulumi-nodejs:dynamic/virtwire:<Kind>`, the type token of a virtwire resource. */
export const virtwireType = (kind: string) => `pulumi-nodejs:dynamic/virtwire:${kind}`;

/**
 * Per kind, the outputs the generated sdk/ class adds as `additionalSecretOutputs`: the
 * properties schema.json marks `secret`.
 */
export const SECRET_OUTPUTS: Record<string, string[]> = Object.fromEntries(
  Object.entries(schema.resources).map(([token, resource]) => [
    token.slice(token.lastIndexOf(":") + 1),
    Object.entries(resource.properties)
      .filter(([, property]) => property.secret)
      .map(([key]) => key),
  ]),
);

/**
 * The props a `new <Kind>(name, args)` of sdk/ registers: kind and logical name included, and the
 * URN when given (sdk/ always passes it; without it the provider marks nothing, as before).
 */
export function resourceInputs(
  kind: string,
  name: string,
  args: PropertyMap,
  urn?: string,
): PropertyMap {
  return { __kind: kind, __logicalName: name, ...(urn !== undefined && { __urn: urn }), ...args };
}

export interface Step {
  step: "create" | "same" | "update" | "replace";
  id: string;
  outputs: PropertyMap;
  diff?: { changes: boolean; replaces: string[]; deleteBeforeReplace: boolean };
  calls: string[];
}

export interface VirtwireOptions {
  /** The stack config (namespaced keys), over `virtwire:uri` set to the test bed's URI. */
  config?: Record<string, string>;
  /** Which config keys are secret (`pulumi config set --secret`). */
  secretKeys?: string[];
  /**
   * Added to the plugin's environment. SSH_AUTH_SOCK is emptied unless given, so no agent of the
   * machine running the tests takes part.
   */
  env?: Record<string, string>;
  /**
   * The stack's name (default: one of its own, `test-<hex>`): a second plugin with the same name
   * gives the same URNs, as the next `pulumi up` of the same stack does.
   */
  stack?: string;
}

let program: Promise<{ dir: string; provider: SerializedProvider }> | undefined;

/** The program directory with packed virtwire installed, shared by the plugins of a test file. */
function programDir(): Promise<{ dir: string; provider: SerializedProvider }> {
  program ??= (async () => {
    const { dir } = await prepareProgramDir([await packVirtwire()]);
    return { dir, provider: await serializeProvider(dir, "virtwire/provider") };
  })();
  return program;
}

export class VirtwireEngine {
  /** The step model over the current stack: previews, `get`, refresh or destroy of everything. */
  engine: Engine;

  private constructor(
    readonly plugin: PulumiPlugin,
    private readonly options: EngineOptions,
  ) {
    this.engine = new Engine(plugin, options);
  }

  /**
   * Starts a plugin serving virtwire with this stack config. The plugin configures the provider
   * once per process, so each config needs a plugin of its own.
   */
  static async start(options: VirtwireOptions = {}): Promise<VirtwireEngine> {
    const { dir, provider } = await programDir();
    const plugin = await PulumiPlugin.start(dir, {
      // Uploads of gigabytes are single Create calls.
      callTimeoutMs: 600_000,
      // A stack of its own: URNs, and so the names and marks derived from them, are not shared
      // with other test runs on the same daemon.
      stack: options.stack ?? `test-${randomBytes(3).toString("hex")}`,
      env: { SSH_AUTH_SOCK: "", ...options.env },
    });
    const config = { "virtwire:uri": TEST_URI, ...options.config };
    return new VirtwireEngine(plugin, { provider, config, secretKeys: options.secretKeys ?? [] });
  }

  /** Starts over with an empty stack (same config, same plugin) and returns its engine. */
  reset(): Engine {
    this.engine = new Engine(this.plugin, this.options);
    return this.engine;
  }

  /** Destroys what the stack still holds (ignoring failures), then stops the plugin. */
  async close(): Promise<void> {
    await this.engine.destroy().catch(() => undefined);
    await this.plugin.stop();
  }

  /** Lines the plugin printed: what Pulumi shows users and keeps in the update log. */
  get logs(): string[] {
    return this.plugin.output.split("\n");
  }

  private urnOf(name: string): string {
    const entry = this.engine.state.resources.find((resource) =>
      resource.urn.endsWith(`::${name}`),
    );
    if (!entry) throw new Error(`${name} is not in the state`);
    return entry.urn;
  }

  urn(kind: string, name: string): string {
    return this.engine.urn(virtwireType(kind), name);
  }

  /**
   * `pulumi up` for one resource; `options.replace` is `pulumi up --replace <urn>`, with the
   * resource option `deleteBeforeReplace` if given.
   */
  async up(
    kind: string,
    name: string,
    args: PropertyMap,
    options: Pick<ResourceOptions, "replace" | "deleteBeforeReplace"> = {},
  ): Promise<Step> {
    const props = resourceInputs(kind, name, args, this.urn(kind, name));
    const record = await this.engine.up(virtwireType(kind), name, props, {
      additionalSecretOutputs: SECRET_OUTPUTS[kind],
      ...options,
    });
    const diff = record.diff && {
      changes: record.diff.changes === "some",
      replaces: record.diff.replaces,
      deleteBeforeReplace: record.diff.deleteBeforeReplace,
    };
    return {
      step: record.step,
      id: record.id,
      outputs: reveal(record.outputs),
      diff,
      calls: record.calls,
    };
  }

  /** `pulumi refresh` of one resource. */
  async refresh(name: string): Promise<"same" | "changed" | "deleted"> {
    const [result] = await this.engine.refresh([this.urnOf(name)]);
    return result!.deleted ? "deleted" : result!.changed ? "changed" : "same";
  }

  id(name: string): string {
    return this.engine.resource(this.urnOf(name)).id;
  }

  outputs(name: string): PropertyMap {
    return reveal(this.engine.resource(this.urnOf(name)).outputs);
  }

  /** `pulumi destroy` of one resource. */
  async destroy(name: string): Promise<void> {
    await this.engine.destroy([this.urnOf(name)]);
  }

  /** Deletes a resource, from the inputs and outputs it had, that was destroyed already. */
  async deleteAgain(urn: string, id: string, inputs: PropertyMap, outputs: PropertyMap) {
    await this.plugin.delete(urn, id, inputs, outputs);
  }
}
