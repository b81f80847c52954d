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
 * Like index.ts, a composition root: it imports resources/functions, through function-invoke.ts
 * when a function is first called.
 */
import * as pulumi from "@pulumi/pulumi";
import type { HostConfig } from "../resources/kit/generated/types";
import type { ConfigSource } from "./config";
import type { FunctionHosts } from "./function-invoke";

export type { FunctionHosts } from "./function-invoke";

/*
 * The SDK imports this module, and with it every program that loads virtwire: what runs a
 * function (function-invoke.ts, the settings, the RPC client) is imported when one is called.
 */

/** Runs the function `token` on a host of the provider (function-invoke.ts). */
export async function invokeFunction(
  token: string,
  args: Record<string, unknown>,
  hosts: FunctionHosts,
): Promise<Record<string, unknown>> {
  return (await import("./function-invoke")).invokeFunction(token, args, hosts);
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
  const { ConfigError, readSettings } = await import("./config");
  const { ConnectionCache } = await import("./connections");
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
