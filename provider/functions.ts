/**
 * The functions (data sources) of schema.json, served two ways with one implementation
 * (resources/functions):
 *
 *   invokeFunction(token, args, hosts)  the provider plugin's `invoke`: the plugin's settings and
 *                                       its shared connections
 *   callFunction(token, args, opts)     the SDK's `getNodeInfo()` & co. in the program's own
 *                                       process: the stack's virtwire config (or
 *                                       `opts.connection`), one connection per call
 *
 * Like index.ts, a composition root: it imports resources/functions.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Libvirt } from "../rpc";
import { checkFunctionArgs } from "../resources/kit/check";
import type { HostConfig } from "../resources/kit/generated/types";
import { FunctionLookupError, functions } from "../resources/functions";
import { ConfigError, ConfigSource, HostSettings, ProviderSettings } from "./config";
import { hostSettings, readSettings } from "./config";
import { ConnectionCache } from "./connections";
import { plainValue } from "./dispatch";
import { describeError } from "./errors";

/** What invokeFunction needs of the provider: its settings and a connection to a host. */
export interface FunctionHosts {
  settings: ProviderSettings;
  connections: { get(host: HostSettings): Promise<Libvirt> };
}

/**
 * Runs the function `token` (`virtwire:index:getNodeInfo`) with `args` as the engine sends them:
 * checked against schema.json (a bad or unknown argument fails, naming it), defaults filled in,
 * on the host of `args.host`. Resolves to the result as the engine can take it (plain JSON
 * values); rejects with an Error whose message is for the user and holds no secret.
 */
export async function invokeFunction(
  token: string,
  args: Record<string, unknown>,
  hosts: FunctionHosts,
): Promise<Record<string, unknown>> {
  const implementation = functions[token];
  const name = token.split(":").pop() ?? token;
  if (!implementation) {
    const known = Object.keys(functions).map((known) => known.split(":").pop());
    throw new Error(`virtwire has no function ${token}; it has ${known.join(", ")}`);
  }
  const checked = checkFunctionArgs(token, args ?? {});
  if (checked.failures.length > 0) {
    throw new Error(
      `${name} cannot be called with these arguments: ${checked.failures.map((failure) => failure.reason).join("; ")}`,
    );
  }
  const given = checked.args.host;
  const host = typeof given === "string" && given !== "" ? given : "default";
  try {
    const lv = await hosts.connections.get(
      hostSettings(hosts.settings, given as string | undefined),
    );
    return plainValue(await implementation(lv, checked.args, host)) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof FunctionLookupError || error instanceof ConfigError) throw error;
    throw describeError(error, `calling ${name}`, host);
  }
}

/** How the SDK's functions connect, besides their arguments. */
export interface FunctionOptions {
  /**
   * Connect with these settings (the keys of a `virtwire:hosts` entry: `uri`, credentials,
   * timeouts) instead of the stack's virtwire config, e.g. outside a Pulumi program. The
   * function's `host` argument must then be left out.
   */
  connection?: HostConfig;
}

/**
 * A function called from a program (the generated `getNodeInfo()` & co.): the stack's virtwire
 * config as the provider reads it, or `opts.connection`; connects for this call and closes after.
 */
export async function callFunction<Result>(
  token: string,
  args: Record<string, unknown>,
  opts: FunctionOptions = {},
): Promise<Result> {
  if (opts.connection !== undefined && args.host !== undefined) {
    throw new ConfigError(
      `${token.split(":").pop()}: give either the host argument (a virtwire:hosts entry) or opts.connection, not both`,
    );
  }
  const settings = readSettings(
    opts.connection !== undefined ? connectionConfig(opts.connection) : stackConfig(),
  );
  const connections = new ConnectionCache();
  try {
    return (await invokeFunction(token, args, { settings, connections })) as Result;
  } finally {
    await connections.closeAll();
  }
}

/** The stack's `virtwire:` config, as a program reads it (secrets in plaintext, in memory only). */
function stackConfig(): ConfigSource {
  const config = new pulumi.Config("virtwire");
  const source = { get: (key: string) => config.get(key.replace(/^virtwire:/, "")) };
  // rawConfig: a misspelt virtwire: key is refused, as the provider refuses it (config.ts).
  return Object.assign(source, { rawConfig: pulumi.runtime.allConfig() });
}

/** `opts.connection` read as the default host's settings would be, keys checked by name. */
function connectionConfig(connection: HostConfig): ConfigSource {
  const fields = { ...connection } as Record<string, unknown>;
  const rawConfig = Object.fromEntries(
    Object.keys(fields).map((key) => [`virtwire:${key}`, "(given)"]),
  );
  // Numbers and fingerprint lists pass as given; config.ts reads them as a virtwire:hosts entry's.
  const get = (key: string) => fields[key.replace(/^virtwire:/, "")] as string | undefined;
  return Object.assign({ get }, { rawConfig });
}
