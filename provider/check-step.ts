/**
 * check() as the engine calls it, in preview and in up, for a new resource (olds `{}`), an existing
 * one (olds: its inputs) and a replacement (olds `{}` again). In order, each step only when the one
 * before found nothing:
 *
 *   1. the stack config (virtwire:*) can be read
 *   2. schema.json: types, enums, required, patterns, bounds, sizes, unknown properties at any depth
 *   3. the kind's own rules (handlers.check)
 *   4. `host`: a key of virtwire:hosts, whose settings fit its URI
 *   5. a new resource, or one moved to another host: the host can be reached
 *   6. the kind's preflight: read-only questions about what is new (handlers.preflight)
 *
 * So whatever can be known before anything is made fails the preview. Each failure goes to the
 * engine with an empty property and a reason that starts with the property path: the engine then
 * prints `<type> resource '<name>' has a problem: <reason>`, one line, instead of
 * `property <top-level name> value <the whole value as a Go map> has a problem: …`.
 */
import { AuthError, UriError } from "../rpc";
import { UNKNOWN, applyDefaults, isExtraProperty, validateInputs } from "../resources/kit/check";
import { ConfigError, ProviderSettings, hostSettings, settingName } from "./config";
import { connectionFor } from "./connections";
import { describeError } from "./errors";
import type { CheckFailure, ResourceContext, ResourceHandlers } from "../resources/kit/resource";

type Props = Record<string, unknown>;

export interface CheckDependencies {
  settings(): Promise<ProviderSettings>;
  /** With the inputs, whose URN lines for the user are attached to. */
  context(settings: ProviderSettings, inputs: Props): ResourceContext;
  /** Whether steps 5 and 6 ask libvirt (unit tests of rules turn it off). */
  askHosts: boolean;
}

export interface CheckResult {
  inputs: Props;
  failures: CheckFailure[];
}

export function createChecker(deps: CheckDependencies) {
  // The engine checks a replacement again with olds `{}`, right after the check with its old
  // inputs and the diff: those old inputs are remembered here, so that the replacement is not
  // taken for a new resource (whose network would overlap its own predecessor, for one).
  const lastOlds = new Map<string, Props>();
  const reachable = new Map<string, Promise<string | undefined>>();

  /** Step 5, once per host and process: undefined, or why the host cannot be reached. */
  const reach = (host: string | undefined, ctx: ResourceContext) => {
    const name = host || "default";
    let verdict = reachable.get(name);
    if (!verdict) {
      verdict = ctx.connect(host).then(
        () => undefined,
        (error: unknown) => unreachable(error, name),
      );
      reachable.set(name, verdict);
    }
    return verdict;
  };

  return async function check(
    kind: string,
    handlers: ResourceHandlers<Props, Props>,
    noun: string,
    givenOlds: Props,
    news: Props,
  ): Promise<CheckResult> {
    // By URN: two resources of one name under different parents are different resources.
    const key = `${kind}\0${String(news.__urn ?? news.__logicalName)}`;
    const isNew = Object.keys(givenOlds).length === 0;
    if (!isNew) lastOlds.set(key, givenOlds);
    const olds = isNew ? (lastOlds.get(key) ?? {}) : givenOlds;
    const inputs = applyDefaults(kind, givenOlds, news);
    // No old inputs: the engine is about to make a new object for this resource (owner.ts).
    inputs.__fresh = isNew;
    const done = (failures: CheckFailure[]) => ({ inputs, failures: failures.map(oneLine) });

    let settings: ProviderSettings;
    try {
      settings = await deps.settings();
    } catch (error) {
      if (error instanceof ConfigError) return done([{ property: "", reason: error.message }]);
      throw error;
    }
    const failures = validateInputs(kind, inputs);
    // The kind's rules need the schema's types; a property too many leaves them as they are.
    if (failures.every(isExtraProperty) && handlers.check) failures.push(...handlers.check(inputs));
    const host = inputs.host === UNKNOWN ? UNKNOWN : (inputs.host as string | undefined);
    if (host !== UNKNOWN) failures.push(...hostFailures(settings, host));
    if (failures.length > 0 || !deps.askHosts || host === UNKNOWN) return done(failures);

    const ctx = deps.context(settings, inputs);
    if (Object.keys(olds).length === 0 || olds.host !== host) {
      const problem = await reach(host, ctx);
      if (problem) return done([{ property: "", reason: problem }]);
    }
    if (!handlers.preflight) return done([]);
    try {
      return done(await handlers.preflight(inputs, olds, ctx));
    } catch (error) {
      const name = typeof inputs.name === "string" ? ` ${inputs.name}` : "";
      const reason = describeError(error, `checking ${noun}${name}`, host || "default").message;
      return done([{ property: "", reason }]);
    }
  };
}

/** Step 4: the host's settings as a connection would use them, without connecting. */
function hostFailures(settings: ProviderSettings, host: string | undefined): CheckFailure[] {
  try {
    connectionFor(hostSettings(settings, host));
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError) && !(error instanceof UriError)) throw error;
    const uri = settingName(host || "default", "uri");
    const reason =
      error instanceof UriError ? `${uri} is not a libvirt URI: ${error.message}` : error.message;
    return [{ property: "", reason }];
  }
}

/**
 * Step 5's failure: what the connection said, and which setting to fix (a login failure names the
 * credential keys itself).
 */
function unreachable(error: unknown, host: string): string {
  if (error instanceof ConfigError) return error.message;
  const said = describeError(error, "connecting to libvirt", host).message;
  return error instanceof AuthError ? said : `${said} (check ${settingName(host, "uri")})`;
}

/** A failure as one line: the property path first, then the reason (which may start with it). */
function oneLine(failure: CheckFailure): CheckFailure {
  const { property, reason } = failure;
  if (!property || reason.startsWith(property)) return { property: "", reason };
  return { property: "", reason: `${property}: ${reason}` };
}
