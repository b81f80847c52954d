/**
 * The plugin's `invoke`: the functions of schema.json (`virtwire:index:getNodeInfo`, …) as
 * provider/functions.ts runs them, with this provider's settings (its Configure) and the
 * connections its resources share.
 */
import type { DispatchProvider } from "../dispatch";
import { invokeFunction } from "../functions";

type Props = Record<string, unknown>;

/** The function a token names, called with its arguments. */
export type InvokeFunction = (token: string, args: Props) => Promise<Props>;

export function pluginInvoke(provider: DispatchProvider): InvokeFunction {
  return async (token, args) => invokeFunction(token, args, await provider.hosts());
}
