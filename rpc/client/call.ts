/**
 * Typed calls: encode the procedure's args, send them, decode its ret. Argument errors surface as
 * XdrError before anything is sent; a ret with bytes left over is a protocol error.
 */
import { ProtocolError, XdrError } from "../errors";
import { Procedure } from "../protocol/program";
import { XdrReader, XdrWriter } from "../xdr";
import { CallOptions, Connection } from "./connection";
import { callDeadline, validateTimeout } from "./deadlines";

export function encodeArgs<A>(procedure: Procedure<A, unknown>, args: A): Buffer {
  const writer = new XdrWriter();
  try {
    procedure.args.encode(writer, args);
  } catch (error) {
    if (error instanceof XdrError) {
      throw new XdrError(`invalid arguments for ${procedure.name}: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
  return writer.finish();
}

export function decodeRet<R>(procedure: Procedure<unknown, R>, payload: Buffer): R {
  try {
    const reader = new XdrReader(payload);
    const ret = procedure.ret.decode(reader);
    reader.assertEnd(`reply to ${procedure.name}`);
    return ret;
  } catch (error) {
    throw new ProtocolError(`malformed reply to ${procedure.name}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** What a caller may set for one call: its own deadline, or an AbortSignal to give up on it. */
export type PerCallOptions = Pick<CallOptions, "timeoutMs" | "signal">;

/**
 * Calls `procedure`. This is the path of every method, so the options object is built with one
 * fixed shape (with 32 calls in flight, object spreads here and in pending-calls.ts were about a
 * third of a call's CPU), and the reply is decoded in a `then`, which makes one promise fewer than
 * an `await` would.
 */
export function callProcedure<A, R>(
  connection: Connection,
  procedure: Procedure<A, R>,
  args: A,
  options: Omit<CallOptions, "name"> = {},
): Promise<R> {
  let payload: Buffer;
  let deadline: { timeoutMs: number; option: string };
  try {
    payload = encodeArgs(procedure, args);
    // The connection's deadline for this procedure, unless the caller set one.
    if (options.timeoutMs === undefined) {
      deadline = callDeadline(connection.deadlines, procedure);
    } else {
      validateTimeout("timeoutMs", options.timeoutMs);
      deadline = { timeoutMs: options.timeoutMs, option: options.timeoutOption ?? "timeoutMs" };
    }
  } catch (error) {
    return Promise.reject(error as Error);
  }
  const callOptions = {
    name: procedure.name,
    timeoutMs: deadline.timeoutMs,
    timeoutOption: deadline.option,
    signal: options.signal,
    onSerial: options.onSerial,
  } satisfies Record<keyof CallOptions, unknown>; // an option added to CallOptions must be passed on
  const reply = connection.call(procedure.program, procedure.number, payload, callOptions);
  return reply.then((replyPayload) => decodeRet(procedure, replyPayload));
}
