/**
 * The provider plugin's `invoke` and the SDK's functions (functions.ts) run the functions of
 * schema.json here. Loaded on first call: a program that calls no function does not load
 * resources/functions and the RPC client with `require("virtwire")`.
 *
 * Like index.ts, a composition root: it imports resources/functions.
 */
import type { Libvirt } from "../rpc";
import { checkFunctionArgs } from "../resources/kit/check";
import { FunctionLookupError, functions } from "../resources/functions";
import { ConfigError, HostSettings, ProviderSettings, hostSettings } from "./config";
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
  const host = (checked.args.host as string | undefined) || "default";
  try {
    const lv = await hosts.connections.get(hostSettings(hosts.settings, host));
    return plainValue(await implementation(lv, checked.args, host)) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof FunctionLookupError || error instanceof ConfigError) throw error;
    throw describeError(error, `calling ${name}`, host);
  }
}
