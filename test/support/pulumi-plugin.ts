/**
 * The real dynamic-provider plugin of @pulumi/pulumi, started and called over gRPC the way the
 * Pulumi engine does it (pulumi-dynamic-providers.md §6.1; the engine side is
 * `pkg/resource/plugin/provider_plugin.go`).
 *
 * `PulumiPlugin.start(programDir)` starts the plugin (plugin-process.ts: the engine's command,
 * environment and working directory; its output kept for assertions) and connects a
 * `ResourceProviderClient` from `@pulumi/pulumi/proto/provider_grpc_pb` to the port it prints.
 *
 * Each resource call encodes and decodes like the engine: secrets stripped to plain values while
 * the plugin does not accept secrets, unknowns only in preview, `olds` always a Struct, results
 * annotated with `annotateSecrets`, partial failures decoded from `grpc-status-details-bin`.
 */
import { randomUUID } from "node:crypto";
import { CallOptions, credentials, Metadata, ServiceError, status } from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { ResourceProviderClient } from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as proto from "@pulumi/pulumi/proto/provider_pb";
import { PluginInfo } from "@pulumi/pulumi/proto/plugin_pb";
import {
  annotateSecrets,
  CheckFailure,
  decodeError,
  DiffResult,
  marshalProperties,
  PluginCallError,
  PropertyMap,
  ResourceInitError,
  secret,
  unmarshalProperties,
} from "./pulumi-wire";
import { FAKE_ENGINE_ADDRESS, PluginProcess } from "./plugin-process";

export { PluginCallError, ResourceInitError } from "./pulumi-wire";
export type { CheckFailure, DiffResult } from "./pulumi-wire";

export interface PluginStartOptions {
  /** `PULUMI_NODEJS_PROJECT`: the namespace of config keys given without one. */
  project?: string;
  stack?: string;
  /** Added to the plugin's environment (inherited PULUMI_* variables are dropped first). */
  env?: Record<string, string>;
  /**
   * A deadline for each call (default 30 s). The engine sets none, but a provider error the plugin
   * cannot encode (e.g. `properties` holding `undefined`) leaves a call unanswered for ever.
   */
  callTimeoutMs?: number;
}

export interface ConfigureResult {
  acceptSecrets: boolean;
  acceptResources: boolean;
  supportsPreview: boolean;
}

const DIFF_CHANGES = { 0: "unknown", 1: "none", 2: "some" } as const;

interface ResourceRequest<T> {
  setUrn(urn: string): T;
  setName(name: string): T;
  setType(type: string): T;
}

/** Sets the URN and, as newer engines do, the name and type taken from it. */
function forResource<T extends ResourceRequest<T>>(request: T, urn: string): T {
  const parts = urn.split("::");
  return request
    .setUrn(urn)
    .setName(parts.slice(3).join("::"))
    .setType(parts[2] ?? "");
}

export class PulumiPlugin {
  private config: ConfigureResult = {
    acceptSecrets: false,
    acceptResources: false,
    supportsPreview: false,
  };

  private constructor(
    /** The process: its output (`stdout`, `stderr`, `output`, `waitForOutput`, `quiet`). */
    readonly process: PluginProcess,
    private readonly client: ResourceProviderClient,
    readonly programDir: string,
    readonly project: string,
    readonly stack: string,
    private readonly callTimeoutMs: number,
  ) {}

  /** Starts the plugin in `programDir` and connects to it. */
  static async start(programDir: string, options: PluginStartOptions = {}): Promise<PulumiPlugin> {
    const project = options.project ?? "virtwire-test-program";
    const stack = options.stack ?? "test";
    const env = { PULUMI_NODEJS_PROJECT: project, PULUMI_PROJECT: project, PULUMI_CONFIG: "{}" };
    const child = await PluginProcess.start(programDir, { ...env, ...options.env });
    const address = `127.0.0.1:${child.port}`;
    const client = new ResourceProviderClient(address, credentials.createInsecure());
    const timeout = options.callTimeoutMs ?? 30_000;
    return new PulumiPlugin(child, client, programDir, project, stack, timeout);
  }

  /** What the plugin printed on stdout after its port. */
  get stdout(): string {
    return this.process.stdout;
  }

  get stderr(): string {
    return this.process.stderr;
  }

  /** Everything users would see from the plugin. */
  get output(): string {
    return this.process.output;
  }

  /** What the plugin prints from now on (PluginProcess.mark). */
  mark(): () => string {
    return this.process.mark();
  }

  waitForOutput(pattern: string | RegExp, timeoutMs?: number): Promise<void> {
    return this.process.waitForOutput(pattern, timeoutMs);
  }

  quiet(ms?: number): Promise<void> {
    return this.process.quiet(ms);
  }

  /** The Configure answer (before Configure: the engine's defaults). */
  get configuration(): ConfigureResult {
    return { ...this.config };
  }

  /** The URN the engine gives a resource of this stack. */
  urn(type: string, name: string): string {
    return `urn:pulumi:${this.stack}::${this.project}::${type}::${name}`;
  }

  /** Closes the connection and kills the plugin, as the engine does after an operation. */
  async stop(): Promise<void> {
    this.client.close();
    await this.process.kill();
  }

  private call<T>(
    method: string,
    invoke: (
      metadata: Metadata,
      options: Partial<CallOptions>,
      callback: (error: ServiceError | null, response: T) => void,
    ) => void,
  ): Promise<T> {
    const options = { deadline: Date.now() + this.callTimeoutMs };
    return new Promise((resolve, reject) => {
      invoke(new Metadata(), options, (error, response) =>
        error ? reject(decodeError(method, error)) : resolve(response),
      );
    });
  }

  /** Handshake; false when the plugin answers UNIMPLEMENTED (which the engine accepts). */
  async handshake(): Promise<boolean> {
    const request = new proto.ProviderHandshakeRequest()
      .setEngineAddress(FAKE_ENGINE_ADDRESS)
      .setRootDirectory(this.programDir)
      .setProgramDirectory(this.programDir);
    try {
      await this.call<proto.ProviderHandshakeResponse>("Handshake", (meta, opts, cb) =>
        this.client.handshake(request, meta, opts, cb),
      );
      return true;
    } catch (err) {
      if (err instanceof PluginCallError && err.code === status.UNIMPLEMENTED) return false;
      throw err;
    }
  }

  async getPluginInfo(): Promise<{ version: string }> {
    const info = await this.call<PluginInfo>("GetPluginInfo", (meta, opts, cb) =>
      this.client.getPluginInfo(new Empty(), meta, opts, cb),
    );
    return { version: info.getVersion() };
  }

  /**
   * Configure the default provider with the stack config: `args` holds every key with its
   * namespace (secret keys as secret sentinels), `variables` the old `<pkg>:config:<key>` spelling
   * in plain text (`provider_plugin.go` Configure).
   */
  async configure(
    config: Record<string, string>,
    secretKeys: string[] = [],
  ): Promise<ConfigureResult> {
    const inputs: PropertyMap = {};
    for (const [key, value] of Object.entries(config)) {
      inputs[key] = secretKeys.includes(key) ? secret(value) : value;
    }
    const request = new proto.ConfigureRequest()
      .setArgs(marshalProperties(inputs, { keepSecrets: true, keepUnknowns: true }))
      .setAcceptsecrets(true)
      .setAcceptresources(true)
      .setSendsOldInputs(true)
      .setSendsOldInputsToDelete(true)
      .setUrn(this.urn("pulumi:providers:pulumi-nodejs", "default"))
      .setName("default")
      .setType("pulumi:providers:pulumi-nodejs")
      .setId(randomUUID());
    const variables = request.getVariablesMap();
    for (const [key, value] of Object.entries(config))
      variables.set(`pulumi-nodejs:config:${key}`, value);
    const response = await this.call<proto.ConfigureResponse>("Configure", (meta, opts, cb) =>
      this.client.configure(request, meta, opts, cb),
    );
    this.config = {
      acceptSecrets: response.getAcceptsecrets(),
      acceptResources: response.getAcceptresources(),
      supportsPreview: response.getSupportspreview(),
    };
    return this.configuration;
  }

  private marshal(props: PropertyMap | undefined, preview: boolean) {
    return marshalProperties(props, {
      keepSecrets: this.config.acceptSecrets,
      keepUnknowns: preview,
    });
  }

  private annotate(outs: PropertyMap, ins: PropertyMap | undefined): PropertyMap {
    return this.config.acceptSecrets ? outs : annotateSecrets(outs, ins);
  }

  async check(
    urn: string,
    olds: PropertyMap,
    news: PropertyMap,
    preview = false,
  ): Promise<{ inputs: PropertyMap; failures: CheckFailure[] }> {
    const request = forResource(new proto.CheckRequest(), urn)
      .setOlds(this.marshal(olds, preview))
      .setNews(this.marshal(news, preview));
    const response = await this.call<proto.CheckResponse>("Check", (meta, opts, cb) =>
      this.client.check(request, meta, opts, cb),
    );
    const inputs = unmarshalProperties(response.getInputs(), preview, "Check");
    const failures = response
      .getFailuresList()
      .map((f) => ({ property: f.getProperty(), reason: f.getReason() }));
    return { inputs: this.annotate(inputs, news), failures };
  }

  async diff(
    urn: string,
    id: string,
    oldInputs: PropertyMap,
    oldOutputs: PropertyMap,
    newInputs: PropertyMap,
    preview = false,
  ): Promise<DiffResult> {
    const request = forResource(new proto.DiffRequest(), urn)
      .setId(id)
      .setOldInputs(this.marshal(oldInputs, preview))
      .setOlds(this.marshal(oldOutputs, preview))
      .setNews(this.marshal(newInputs, preview));
    const response = await this.call<proto.DiffResponse>("Diff", (meta, opts, cb) =>
      this.client.diff(request, meta, opts, cb),
    );
    return {
      changes: DIFF_CHANGES[response.getChanges() as 0 | 1 | 2],
      replaces: response.getReplacesList(),
      stables: response.getStablesList(),
      changedKeys: response.getDiffsList(),
      deleteBeforeReplace: response.getDeletebeforereplace(),
      hasDetailedDiff: response.getHasdetaileddiff(),
    };
  }

  /**
   * Create. In a preview the engine does not call a plugin without preview support and takes the
   * inputs as outputs. Throws ResourceInitError for a partial create.
   */
  async create(
    urn: string,
    properties: PropertyMap,
    preview = false,
  ): Promise<{ id: string; outputs: PropertyMap }> {
    if (preview && !this.config.supportsPreview) return { id: "", outputs: properties };
    const request = forResource(new proto.CreateRequest(), urn)
      .setProperties(this.marshal(properties, preview))
      .setPreview(preview);
    try {
      const response = await this.call<proto.CreateResponse>("Create", (meta, opts, cb) =>
        this.client.create(request, meta, opts, cb),
      );
      if (!response.getId() && !preview) {
        throw new Error(`plugin returned empty resource.ID from create '${urn}'`);
      }
      const outputs = unmarshalProperties(response.getProperties(), preview, "Create");
      return { id: response.getId(), outputs: this.annotate(outputs, properties) };
    } catch (err) {
      if (err instanceof ResourceInitError) this.annotate(err.properties, properties);
      throw err;
    }
  }

  /** Read (refresh, get): a blank id in the result means the resource is gone. */
  async read(
    urn: string,
    id: string,
    inputs: PropertyMap | undefined,
    state: PropertyMap,
  ): Promise<{ id: string; outputs: PropertyMap; inputs?: PropertyMap }> {
    const request = forResource(new proto.ReadRequest(), urn)
      .setId(id)
      .setProperties(this.marshal(state, false));
    if (inputs) request.setInputs(this.marshal(inputs, false));
    const response = await this.call<proto.ReadResponse>("Read", (meta, opts, cb) =>
      this.client.read(request, meta, opts, cb),
    );
    if (!response.getId()) return { id: "", outputs: {} };
    const outputs = this.annotate(
      unmarshalProperties(response.getProperties(), false, "Read"),
      state,
    );
    const liveInputs = response.getInputs();
    if (!liveInputs) return { id: response.getId(), outputs };
    const newInputs = this.annotate(unmarshalProperties(liveInputs, false, "Read"), inputs);
    return { id: response.getId(), outputs, inputs: newInputs };
  }

  /** Update; a preview without plugin support returns the new inputs. */
  async update(
    urn: string,
    id: string,
    oldInputs: PropertyMap,
    oldOutputs: PropertyMap,
    newInputs: PropertyMap,
    preview = false,
  ): Promise<{ outputs: PropertyMap }> {
    if (preview && !this.config.supportsPreview) return { outputs: newInputs };
    const request = forResource(new proto.UpdateRequest(), urn)
      .setId(id)
      .setOldInputs(this.marshal(oldInputs, false))
      .setOlds(this.marshal(oldOutputs, false))
      .setNews(this.marshal(newInputs, preview))
      .setPreview(preview);
    try {
      const response = await this.call<proto.UpdateResponse>("Update", (meta, opts, cb) =>
        this.client.update(request, meta, opts, cb),
      );
      const outputs = unmarshalProperties(response.getProperties(), preview, "Update");
      return { outputs: this.annotate(outputs, newInputs) };
    } catch (err) {
      if (err instanceof ResourceInitError) this.annotate(err.properties, newInputs);
      throw err;
    }
  }

  async delete(
    urn: string,
    id: string,
    oldInputs: PropertyMap,
    oldOutputs: PropertyMap,
  ): Promise<void> {
    const request = forResource(new proto.DeleteRequest(), urn)
      .setId(id)
      .setProperties(this.marshal(oldOutputs, false))
      .setOldInputs(this.marshal(oldInputs, false));
    await this.call<Empty>("Delete", (meta, opts, cb) =>
      this.client.delete(request, meta, opts, cb),
    );
  }
}
