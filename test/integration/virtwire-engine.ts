/**
 * virtwire's resources driven through the real dynamic-provider plugin of @pulumi/pulumi over gRPC,
 * with the engine's step model (test/support/engine.ts): the virtwire package is packed and
 * installed into a program directory, `__provider` is the `require("virtwire/provider")` stub, and
 * the plugin is configured with the test bed's URI. Steps are named by kind and resource name;
 * outputs come back with secrets revealed (`engine.resource(urn)` keeps them marked).
 */
import { Engine } from "../support/engine";
import { packVirtwire, prepareProgramDir, serializeProvider } from "../support/program-dir";
import { PulumiPlugin } from "../support/pulumi-plugin";
import { PropertyMap, reveal } from "../support/pulumi-wire";
import { TEST_URI } from "../support/testbed";

/** What the generated sdk/ classes add, per kind: secret outputs (from schema.json). */
const SECRET_OUTPUTS: Record<string, string[]> = { CloudInitDisk: ["userData"] };

export interface Step {
  step: "create" | "same" | "update" | "replace";
  id: string;
  outputs: PropertyMap;
  diff?: { changes: boolean; replaces: string[]; deleteBeforeReplace: boolean };
  calls: string[];
}

export class VirtwireEngine {
  private constructor(
    readonly plugin: PulumiPlugin,
    readonly engine: Engine,
  ) {}

  /** Packs virtwire (cached by content), prepares a program directory and starts the plugin. */
  static async start(): Promise<VirtwireEngine> {
    const program = await prepareProgramDir([await packVirtwire()]);
    const provider = await serializeProvider(program.dir, "virtwire/provider");
    // Uploads of gigabytes are single Create calls.
    const plugin = await PulumiPlugin.start(program.dir, { callTimeoutMs: 600_000 });
    const engine = new Engine(plugin, { provider, config: { "virtwire:uri": TEST_URI } });
    return new VirtwireEngine(plugin, engine);
  }

  async close(): Promise<void> {
    await this.plugin.stop();
  }

  /** Lines the plugin printed: what Pulumi shows users and keeps in the update log. */
  get logs(): string[] {
    return this.plugin.output.split("\n");
  }

  type(kind: string): string {
    return `pulumi-nodejs:dynamic/virtwire:${kind}`;
  }

  private urnOf(name: string): string {
    const entry = this.engine.state.resources.find((resource) =>
      resource.urn.endsWith(`::${name}`),
    );
    if (!entry) throw new Error(`${name} is not in the state`);
    return entry.urn;
  }

  urn(kind: string, name: string): string {
    return this.engine.urn(this.type(kind), name);
  }

  /** The props a `new <Kind>(name, args)` of sdk/ registers. */
  props(kind: string, name: string, args: PropertyMap): PropertyMap {
    return { __kind: kind, __logicalName: name, ...args };
  }

  /** `pulumi up` for one resource. */
  async up(kind: string, name: string, args: PropertyMap): Promise<Step> {
    const record = await this.engine.up(this.type(kind), name, this.props(kind, name, args), {
      additionalSecretOutputs: SECRET_OUTPUTS[kind],
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
