/**
 * The dynamic provider as Pulumi calls it. One object serves every resource kind; the kind
 * travels in the hidden input `__kind` (and so in the outputs, which read and delete receive).
 *
 * configure() only starts reading the settings; every method awaits them, because the plugin
 * caches the provider and lets concurrent calls through before configure() has finished.
 */
import type * as pulumi from "@pulumi/pulumi";
import { applyDefaults, validateInputs } from "./check";
import { ConfigSource, ProviderSettings, hostSettings, readSettings } from "./config";
import { ConnectionCache } from "./connections";
import { schemaDiff } from "./diff";
import { describeError } from "./errors";
import { LeftBehindError } from "./leftovers";
import { ownerOf } from "./owner";
import type { ResourceContext, ResourceHandlers } from "./resource";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyHandlers = ResourceHandlers<any, any>;
type Props = Record<string, unknown>;

/** Words for messages: `Pool` → "storage pool". */
export interface Registry {
  handlers: Record<string, AnyHandlers>;
  nouns: Record<string, string>;
}

export function createProvider(
  registry: Registry,
): pulumi.dynamic.ResourceProvider & { configure(req: { config: ConfigSource }): Promise<void> } {
  let settings: Promise<ProviderSettings> | undefined;
  const connections = new ConnectionCache();

  const ready = (): Promise<ProviderSettings> =>
    (settings ??= Promise.resolve(readSettings({ get: () => undefined })));

  const context = (config: ProviderSettings, props?: Props): ResourceContext => ({
    connect: (host) => connections.get(hostSettings(config, host)),
    log: (message) => console.log(message),
    owner: props && ownerOf(props),
  });

  const lookup = (props: Props): { kind: string; handlers: AnyHandlers } => {
    const kind = String(props.__kind ?? "");
    const handlers = registry.handlers[kind];
    if (!handlers)
      throw new Error(
        `virtwire does not know the resource kind ${JSON.stringify(kind)}; is the virtwire package in the program older than the one that created this resource?`,
      );
    return { kind, handlers };
  };

  /** Runs `work` with the handlers of the props' kind; its failure is described for the user. */
  const run = async <T>(
    props: Props,
    verb: string,
    work: (handlers: AnyHandlers, ctx: ResourceContext, kind: string) => Promise<T>,
  ): Promise<T> => {
    const config = await ready();
    const { kind, handlers } = lookup(props);
    try {
      return await work(handlers, context(config, props), kind);
    } catch (error) {
      const name = typeof props.name === "string" ? ` ${props.name}` : "";
      const left = error instanceof LeftBehindError ? error : undefined;
      const described = describeError(
        left ? left.cause : error,
        `${verb} ${registry.nouns[kind] ?? kind}${name}`,
        typeof props.host === "string" ? props.host : "default",
      );
      throw left ? new Error(`${described.message}. ${left.note}`, { cause: error }) : described;
    }
  };

  return {
    async configure(req) {
      settings = Promise.resolve().then(() => readSettings(req.config));
      await settings;
    },

    async check(olds: Props, news: Props) {
      await ready();
      const { kind, handlers } = lookup(news);
      const inputs = applyDefaults(kind, olds ?? {}, news);
      // No old inputs: the engine is about to make a new object for this resource (owner.ts).
      inputs.__fresh = Object.keys(olds ?? {}).length === 0;
      let failures = validateInputs(kind, inputs);
      if (failures.length === 0 && handlers.check) failures = handlers.check(inputs);
      // The engine prints the value of `property` looked up at the top level: name the top-level
      // property, while the reason names the exact nested path.
      return {
        inputs,
        failures: failures.map((f) => ({ ...f, property: f.property.split(/[.[]/)[0]! })),
      };
    },

    async diff(id: string, olds: Props, news: Props) {
      const config = await ready();
      const { kind, handlers } = lookup(news);
      const result = handlers.diff
        ? await handlers.diff(id, olds, news, context(config))
        : schemaDiff(kind, olds, news);
      // A replacement is made before the old object goes, unless it would take the same name:
      // a name the user chose (not an auto-name) means delete first.
      const userNamed = typeof news.name === "string" && news.__autoNamed !== "name";
      return {
        changes: result.changes,
        replaces: result.replaces,
        deleteBeforeReplace:
          result.deleteBeforeReplace ?? (result.replaces.length > 0 && userNamed),
      };
    },

    async create(inputs: Props) {
      return run(inputs, "creating", async (handlers, ctx, kind) => {
        const { id, outs } = await handlers.create(inputs, ctx);
        return { id, outs: withKind(outs, kind) };
      });
    },

    async read(id: string, props: Props) {
      return run(props ?? {}, "reading", async (handlers, ctx, kind) => {
        const outs = await handlers.read(id, props, ctx);
        // An empty id tells the engine the resource no longer exists.
        if (outs === undefined) return { id: "" };
        return { id, props: withKind(outs, kind) };
      });
    },

    async update(id: string, olds: Props, news: Props) {
      return run(news, "updating", async (handlers, ctx, kind) => {
        const outs = await handlers.update(id, olds, news, ctx);
        return { outs: withKind(outs, kind) };
      });
    },

    async delete(id: string, props: Props) {
      await run(props, "deleting", (handlers, ctx) => handlers.delete(id, props, ctx));
    },
  };
}

/** Outputs as the engine stores them: the kind added, properties without a value left out. */
function withKind(outs: object, kind: string): Props {
  return { __kind: kind, ...(plainValue(outs) as Props) };
}

/**
 * Outputs as the engine can take them, at every depth: the plugin's Struct conversion throws
 * "Unexpected struct type" on an `undefined` anywhere, and that after create has made the object,
 * which would then be in libvirt but not in the state. So this never throws: keys holding
 * undefined go, undefined list items become null, bigints numbers (strings past 2^53).
 */
export function plainValue(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, item: unknown) =>
      typeof item !== "bigint"
        ? item
        : item <= BigInt(Number.MAX_SAFE_INTEGER) && item >= -BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(item)
          : item.toString(),
    ) ?? "null",
  );
}
