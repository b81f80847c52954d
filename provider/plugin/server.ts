/**
 * `pulumi-resource-virtwire`: the provider gRPC service (pulumirpc.ResourceProvider,
 * proto/pulumi/provider.proto) on @pulumi/pulumi's own generated stubs and gRPC.
 *
 * Why not `main(provider, args)` of `@pulumi/pulumi/provider`: its server (3.270) answers
 * CheckConfig and DiffConfig with UNIMPLEMENTED, never hands Configure's settings to the provider,
 * and drops a diff's per-property kinds; a provider with its own connection settings and detailed
 * diffs needs all three. The methods below convert requests to plain values and back and leave
 * every decision to resources.ts and provider-config.ts.
 *
 * Secrets: Configure answers acceptSecrets false, so requests carry plain values and the engine
 * marks outputs secret again from the inputs (and the SDK's additionalSecretOutputs); CheckConfig
 * returns the settings it was given, whose secretness the engine restores the same way.
 */
import { createRequire } from "node:module";
import type * as grpc from "@grpc/grpc-js";
import type * as providerPb from "@pulumi/pulumi/proto/provider_pb";
import type * as structPb from "google-protobuf/google/protobuf/struct_pb";
import { checkConfig, configSource, diffConfig, fromVariables } from "./provider-config";
import { PluginDiff, pluginResources } from "./resources";
import { withSecrets } from "./secrets";
import type { DispatchProvider } from "../dispatch";
import type { ChangeClass } from "../../resources/kit/resource";

type Props = Record<string, unknown>;
/* eslint-disable @typescript-eslint/no-explicit-any -- the generated stubs' call objects */
type Call = grpc.ServerUnaryCall<any, any>;
type Callback = grpc.sendUnaryData<any>;
/* eslint-enable @typescript-eslint/no-explicit-any */

export interface PluginOptions {
  provider: DispatchProvider;
  version: string;
  schema: () => string;
  /** Functions (data sources), by token (invoke.ts). */
  invoke: (token: string, args: Props) => Promise<Props>;
}

/** @pulumi/pulumi's gRPC and stubs: the message classes must be the ones its services check. */
function modules() {
  const fromPulumi = createRequire(require.resolve("@pulumi/pulumi/package.json"));
  return {
    grpc: fromPulumi("@grpc/grpc-js") as typeof grpc,
    provider: fromPulumi("./proto/provider_pb") as typeof providerPb,
    service: fromPulumi("./proto/provider_grpc_pb"),
    plugin: fromPulumi("./proto/plugin_pb"),
    empty: fromPulumi("google-protobuf/google/protobuf/empty_pb"),
    struct: fromPulumi("google-protobuf/google/protobuf/struct_pb") as typeof structPb,
  };
}

/** Serves the provider on a free loopback port and prints the port, as the engine expects. */
export async function serve(options: PluginOptions): Promise<void> {
  const m = modules();
  const server = new m.grpc.Server({ "grpc.max_receive_message_length": 400 << 20 });
  server.addService(m.service.ResourceProviderService, service(options, m));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", m.grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  process.stdout.write(`${port}\n`);
}

function service(options: PluginOptions, m: ReturnType<typeof modules>) {
  const resources = pluginResources(options.provider);
  const { provider: pb, struct } = m;
  const js = (s: structPb.Struct | undefined): Props => (s ? (s.toJavaScript() as Props) : {});
  const toStruct = (value: Props | undefined) =>
    struct.Struct.fromJavaScript((value ?? {}) as Record<string, structPb.JavaScriptValue>);

  /** Answers with `work`'s result, or with its error's message (never a stack: users read it). */
  const unary =
    <T>(work: (call: Call) => Promise<T> | T, answer: (result: T) => unknown) =>
    (call: Call, callback: Callback) => {
      Promise.resolve()
        .then(() => work(call))
        .then(
          (result) => callback(null, answer(result)),
          (error: unknown) =>
            callback({
              code: m.grpc.status.UNKNOWN,
              details: error instanceof Error ? error.message : String(error),
            }),
        );
    };

  const failures = (list: { property: string; reason: string }[]) =>
    list.map((f) => new pb.CheckFailure().setProperty(f.property).setReason(f.reason));

  return {
    getPluginInfo: unary(
      () => undefined,
      () => new m.plugin.PluginInfo().setVersion(options.version),
    ),
    getSchema: unary(
      () => options.schema(),
      (schema) => new pb.GetSchemaResponse().setSchema(schema),
    ),
    attach: unary(
      () => undefined,
      () => new m.empty.Empty(),
    ),
    cancel: unary(
      () => undefined,
      () => new m.empty.Empty(),
    ),

    checkConfig: unary(
      (call) => {
        const news = js(call.request.getNews());
        return { inputs: news, failures: checkConfig(news) };
      },
      (r) =>
        new pb.CheckResponse().setInputs(toStruct(r.inputs)).setFailuresList(failures(r.failures)),
    ),
    diffConfig: unary(
      (call) => {
        const olds = js(call.request.getOldInputs() ?? call.request.getOlds());
        return { olds, ...diffConfig(olds, js(call.request.getNews())) };
      },
      ({ olds, changed }) => {
        // Never a replacement: the next operation of every resource uses the new settings.
        const classes = Object.fromEntries(changed.map((key) => [key, "live" as ChangeClass]));
        const diff = { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
        return diffResponse(pb, { ...diff, classes }, olds);
      },
    ),
    configure: unary(
      async (call) => {
        const values = fromVariables(
          call.request.getVariablesMap().entries() as Iterable<[string, string]>,
        );
        await options.provider.configure({ config: configSource(values) });
      },
      () =>
        new pb.ConfigureResponse()
          .setAcceptsecrets(false)
          .setAcceptresources(false)
          .setSupportspreview(false),
    ),

    check: unary(
      (call) =>
        resources.check(
          call.request.getUrn(),
          js(call.request.getOlds()),
          js(call.request.getNews()),
        ),
      (r) =>
        new pb.CheckResponse().setInputs(toStruct(r.inputs)).setFailuresList(failures(r.failures)),
    ),
    diff: unary(
      async (call) => {
        const olds = js(call.request.getOlds());
        return {
          olds,
          diff: await resources.diff(
            call.request.getId(),
            call.request.getUrn(),
            olds,
            js(call.request.getNews()),
          ),
        };
      },
      ({ olds, diff }) => diffResponse(pb, diff, olds),
    ),
    create: unary(
      async (call) => ({
        urn: call.request.getUrn(),
        ...(await resources.create(call.request.getUrn(), js(call.request.getProperties()))),
      }),
      (r) =>
        new pb.CreateResponse()
          .setId(r.id)
          .setProperties(toStruct(withSecrets(r.urn, r.outs, "outputs"))),
    ),
    read: unary(
      (call) => {
        const props = js(call.request.getProperties());
        const inputs = js(call.request.getInputs());
        // `pulumi import` sends neither outputs nor inputs, only the id.
        const importing = Object.keys(props).length === 0 && Object.keys(inputs).length === 0;
        const urn = call.request.getUrn();
        return resources
          .read(call.request.getId(), urn, props, importing)
          .then((r) => ({ urn, ...r }));
      },
      (r) => {
        const response = new pb.ReadResponse().setId(r.id);
        if (r.props) response.setProperties(toStruct(withSecrets(r.urn, r.props, "outputs")));
        if (r.inputs) response.setInputs(toStruct(withSecrets(r.urn, r.inputs, "inputs")));
        return response;
      },
    ),
    update: unary(
      async (call) => ({
        urn: call.request.getUrn(),
        ...(await resources.update(
          call.request.getId(),
          call.request.getUrn(),
          js(call.request.getOlds()),
          js(call.request.getNews()),
        )),
      }),
      (r) => new pb.UpdateResponse().setProperties(toStruct(withSecrets(r.urn, r.outs, "outputs"))),
    ),
    delete: unary(
      (call) =>
        resources.delete(
          call.request.getId(),
          call.request.getUrn(),
          js(call.request.getProperties()),
        ),
      () => new m.empty.Empty(),
    ),
    invoke: unary(
      (call) => options.invoke(call.request.getTok(), js(call.request.getArgs())),
      (outputs) => new pb.InvokeResponse().setReturn(toStruct(outputs)),
    ),
  };
}

/**
 * A DiffResponse with each changed property's kind: UPDATE_REPLACE for what replaces the object,
 * ADD (or ADD_REPLACE) where the property was unset before, UPDATE otherwise.
 */
function diffResponse(pb: typeof providerPb, diff: PluginDiff, olds: Props) {
  const { DiffChanges } = pb.DiffResponse;
  const response = new pb.DiffResponse()
    .setChanges(diff.changes ? DiffChanges.DIFF_SOME : DiffChanges.DIFF_NONE)
    .setReplacesList(diff.replaces)
    .setDeletebeforereplace(diff.deleteBeforeReplace)
    .setDiffsList(Object.keys(diff.classes))
    .setHasdetaileddiff(true);
  const { Kind } = pb.PropertyDiff;
  for (const [property, cls] of Object.entries(diff.classes)) {
    const replace = cls === "replace" || diff.replaces.includes(property);
    const unsetBefore = olds[property] === undefined || olds[property] === null;
    const kind = unsetBefore
      ? replace
        ? Kind.ADD_REPLACE
        : Kind.ADD
      : replace
        ? Kind.UPDATE_REPLACE
        : Kind.UPDATE;
    response.getDetaileddiffMap().set(property, new pb.PropertyDiff().setKind(kind));
  }
  return response;
}
