/**
 * Functions (data sources) of the plugin, by token (`virtwire:index:getNodeInfo`, …): the hook the
 * functions module plugs into. Until it does, no token is known and the engine's Invoke answers
 * "virtwire has no function <token>".
 */
type Props = Record<string, unknown>;

/** The function a token names, called with its arguments; undefined for an unknown token. */
export type InvokeFunction = (token: string, args: Props) => Promise<Props> | undefined;

export const invokeFunction: InvokeFunction = () => undefined;
