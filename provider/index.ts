/**
 * `virtwire/provider`: the dynamic provider object itself is this module's export. Every virtwire
 * resource of the dynamic path stores `__provider` as a tiny `require("virtwire/provider")` stub
 * (sdk/index.ts writes it out) instead of a copy of the code: stable across package versions and
 * machines.
 *
 * The object is built on its first call: a program never loads this module; only the
 * dynamic-provider plugin does, through the stub. So the dispatcher, the resources and the RPC
 * client load in the plugin, when Pulumi first calls it.
 *
 * This file is the composition root: the only one in provider/ that imports resources/.
 */
import type { DispatchProvider } from "./dispatch";
import type * as Dispatch from "./dispatch";
import type * as Registry from "../resources/registry";

let built: DispatchProvider | undefined;

function build(): DispatchProvider {
  if (!built) {
    // Deferred imports: a static import would load them with this module.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { createProvider } = require("./dispatch") as typeof Dispatch;
    const { registry } = require("../resources/registry") as typeof Registry;
    /* eslint-enable @typescript-eslint/no-require-imports */
    built = createProvider(registry);
  }
  return built;
}

/** The methods of createProvider's object: the plugin looks for each by name. */
const METHODS = [
  "hosts",
  "configure",
  "check",
  "diff",
  "create",
  "read",
  "update",
  "delete",
] as const;

const provider = Object.fromEntries(
  METHODS.map((name) => [
    name,
    (...args: unknown[]) => (build()[name] as (...args: unknown[]) => unknown)(...args),
  ]),
) as unknown as DispatchProvider;
export = provider;
