/**
 * The dynamic provider as Pulumi calls it. One object serves every resource kind; the kind
 * travels in the hidden input `__kind` (and so in the outputs, which read and delete receive).
 *
 * configure() only starts reading the settings; every method awaits them, because the plugin
 * caches the provider and lets concurrent calls through before configure() has finished.
 */
import type * as pulumi from "@pulumi/pulumi";
import { redact } from "../rpc/internal";
import { createChecker } from "./check-step";
import { ConfigSource, ProviderSettings, hostSettings, readSettings } from "./config";
import { ConnectionCache } from "./connections";
import { changeClasses, classesLine, deepEqual, schemaDiff } from "../resources/kit/diff";
import { EngineLog, engineLog, pluginEngineAddress } from "./engine-log";
import { describeError } from "./errors";
import { givenState, readsFromNothing } from "../resources/kit/get";
import { LeftBehindError } from "../resources/kit/leftovers";
import { ownerOf } from "../resources/kit/owner";
import { reportOnce } from "./report-once";
import type {
  ChangeClass,
  Registry,
  ResourceContext,
  ResourceHandlers,
} from "../resources/kit/resource";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyHandlers = ResourceHandlers<any, any>;
type Props = Record<string, unknown>;

export interface ProviderOptions {
  /**
   * Whether check() asks libvirt and this machine about new resources (reachable host, addresses
   * in use, source files); unit tests of the rules alone turn it off. Default true.
   */
  askHosts?: boolean;
  /** Where lines for the user go; default: the engine that started this plugin (engine-log.ts). */
  log?: EngineLog;
}

/**
 * The dynamic provider, and what the plugin (provider/plugin/) reads beside it: configure, and
 * each changed property's class in diff's answer.
 */
export type DispatchProvider = Omit<pulumi.dynamic.ResourceProvider, "diff"> & {
  configure(req: { config: ConfigSource }): Promise<void>;
  /** The settings configure() read and the shared connections: what the plugin's invoke uses. */
  hosts(): Promise<{ settings: ProviderSettings; connections: ConnectionCache }>;
  diff(
    id: string,
    olds: Props,
    news: Props,
  ): Promise<pulumi.dynamic.DiffResult & { classes?: Record<string, ChangeClass> }>;
};

export function createProvider(
  registry: Registry,
  options: ProviderOptions = {},
): DispatchProvider {
  let settings: Promise<ProviderSettings> | undefined;
  const connections = new ConnectionCache();
  const log = options.log ?? engineLog(pluginEngineAddress());
  /**
   * What read returned last, by id, until the next diff of that id: a diff whose olds are exactly
   * that is the one a refresh asks for right after its read (ResourceContext.refresh; the engine's
   * RefreshStep, step.go). Where the engine asks no such diff (its UseLegacyRefreshDiff option),
   * the first diff of an `up --refresh` is taken for it and says nothing; update still does.
   */
  const refreshed = new Map<string, Props>();

  // Lines written before a method answers are delivered before it answers: the engine may end the
  // operation, and this process, right after the last answer.
  const ready = async (): Promise<ProviderSettings> => {
    await log.ready();
    return (settings ??= Promise.resolve(readSettings({ get: () => undefined })));
  };

  /** `said` hears of every kept line (log, warn). */
  const context = (config: ProviderSettings, props?: Props, said = () => {}): ResourceContext => {
    const owner = props && ownerOf(props);
    const urn = owner?.urn;
    return {
      connect: (host) => connections.get(hostSettings(config, host)),
      virsh: (host) => `virsh -c '${redact(hostSettings(config, host).uri)}'`,
      log: (message) => (said(), log.write({ message, urn })),
      warn: (message) => (said(), log.write({ message, urn, severity: "warning" })),
      status: (message) => log.write({ message, urn, ephemeral: true }),
      owner,
    };
  };

  const check = createChecker({
    settings: ready,
    context,
    askHosts: options.askHosts ?? true,
  });

  const lookup = (props: Props): { kind: string; handlers: AnyHandlers } => {
    const kind = String(props.__kind ?? "");
    const handlers = registry.handlers[kind];
    if (!handlers)
      throw reportOnce(
        new Error(
          `virtwire does not know the resource kind ${JSON.stringify(kind)}; is the virtwire package in the program older than the one that created this resource?`,
        ),
      );
    return { kind, handlers };
  };

  /**
   * Runs `work` with the handlers of the props' kind; its failure is described for the user
   * (what virtwire was doing, to which resource, on which host). The plugin prints the errors of
   * diff, read and delete itself before answering: those go through reportOnce.
   */
  const run = async <T>(
    props: Props,
    verb: "planning the change of" | "creating" | "reading" | "updating" | "deleting",
    work: (handlers: AnyHandlers, ctx: ResourceContext, kind: string) => Promise<T>,
    extra: Partial<ResourceContext> = {},
    said?: () => void,
  ): Promise<T> => {
    const { kind, handlers } = lookup(props);
    try {
      return await work(handlers, { ...context(await ready(), props, said), ...extra }, kind);
    } catch (error) {
      const name = typeof props.name === "string" ? ` ${props.name}` : "";
      const left = error instanceof LeftBehindError ? error : undefined;
      const described = describeError(
        left ? left.cause : error,
        `${verb} ${registry.nouns[kind] ?? kind}${name}`,
        // `host: ""` is the default host too (config.ts hostSettings).
        typeof props.host === "string" && props.host !== "" ? props.host : "default",
      );
      const reported = left
        ? new Error(`${described.message}. ${left.note}`, { cause: error })
        : described;
      throw verb === "creating" || verb === "updating" ? reported : reportOnce(reported);
    } finally {
      await log.flush();
    }
  };

  return {
    async hosts() {
      return { settings: await ready(), connections };
    },

    // Never throws: the plugin calls it inside the first request and would print the error with
    // its stack; a setting that cannot be read fails that request (check: as a check failure).
    async configure(req) {
      settings = Promise.resolve().then(() => readSettings(req.config));
      await settings.catch(() => undefined);
    },

    async check(olds: Props, news: Props) {
      const { kind, handlers } = lookup(news);
      try {
        return await check(kind, handlers, registry.nouns[kind] ?? kind, olds ?? {}, news);
      } finally {
        await log.flush();
      }
    },

    async diff(id: string, olds: Props, news: Props) {
      const refresh = refreshed.has(id) && deepEqual(refreshed.get(id), withoutProvider(olds));
      refreshed.delete(id);
      let said = false;
      const result = await run(
        news,
        "planning the change of",
        async (handlers, ctx, kind) => {
          const found = await (handlers.diff
            ? handlers.diff(id, olds, news, ctx)
            : schemaDiff(kind, olds, news));
          const classes = changeClasses(found);
          // Next to each changed property, how it is applied, unless the kind said it already
          // (a Domain's line names each change).
          if (found.changes && !refresh && !said && Object.keys(classes).length > 0) {
            const name = typeof news.name === "string" ? ` ${news.name}` : "";
            ctx.log(`virtwire: ${registry.nouns[kind] ?? kind}${name}: ${classesLine(classes)}`);
          }
          return { ...found, classes };
        },
        refresh ? { refresh } : {},
        () => (said = true),
      );
      // A replacement is made before the old object goes, unless it would take the same name:
      // a name the user chose (not an auto-name) means delete first.
      const userNamed = typeof news.name === "string" && news.__autoNamed !== "name";
      return {
        changes: result.changes,
        replaces: result.replaces,
        deleteBeforeReplace:
          result.deleteBeforeReplace ?? (result.replaces.length > 0 && userNamed),
        // Read by the plugin (provider/plugin/): a dynamic provider's diff has no per-property kinds.
        classes: result.classes,
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
        if (readsFromNothing(kind, props ?? {})) {
          // A Get: the engine keeps the id returned here (a UUID for a name given).
          const found = await handlers.get(id, givenState(props ?? {}), ctx);
          return { id: found.id, props: withKind(found.outs, kind) };
        }
        const outs = await handlers.read(id, props, ctx);
        // An empty id tells the engine the resource no longer exists.
        if (outs === undefined) return { id: "" };
        const state = withKind(outs, kind);
        // A copy: the plugin adds `__provider` to the props it is given.
        refreshed.set(id, withoutProvider(state));
        return { id, props: state };
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

/** A copy of `props` without the serialized provider the plugin keeps beside them. */
function withoutProvider(props: Props | undefined): Props {
  const copy = plainValue(props ?? {}) as Props;
  delete copy.__provider;
  return copy;
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
