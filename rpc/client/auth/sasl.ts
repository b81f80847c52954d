/**
 * The SASL exchange over libvirt RPC (remote_driver.c `remoteAuthSASL`), independent of the
 * mechanism:
 *
 *   AUTH_SASL_INIT → mechlist
 *   AUTH_SASL_START(mech, initial response) → { complete, server data }
 *   AUTH_SASL_STEP(response) → { complete, server data }        … until complete
 *
 * Even when the server says complete, its last data goes to the mechanism, so SCRAM can check
 * the server's signature before the connection is trusted.
 */
import { AuthError, LibvirtError } from "../../errors";
import { RemoteProcedures } from "../../protocol/remote";
import { callProcedure } from "../call";
import { Connection } from "../connection";
import { SaslMechanism } from "./mechanisms/mechanism";

/** Picks and builds a mechanism from the server's list (and the one forced by `auth=sasl.X`). */
export type SaslMechanismFactory = (
  offered: string[],
  forced: string | undefined,
) => SaslMechanism | Promise<SaslMechanism>;

/** Guards against a server that never says complete. */
const MAX_STEPS = 16;
const EMPTY = Buffer.alloc(0);

export async function authenticateSasl(
  connection: Connection,
  createMechanism: SaslMechanismFactory,
  forced?: string,
): Promise<string> {
  let mechlist: string;
  try {
    ({ mechlist } = await callProcedure(connection, RemoteProcedures.AuthSaslInit, undefined));
  } catch (error) {
    // libvirtd refuses to start SASL where it could offer no mechanism, e.g. on plain TCP,
    // which needs a security layer (GSSAPI) that virtwire does not implement.
    if (error instanceof LibvirtError) {
      throw new AuthError(`the server could not start SASL authentication: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
  const offered = mechlist.split(/[\s,]+/).filter((name) => name !== "");
  if (
    forced !== undefined &&
    !offered.some((name) => name.toUpperCase() === forced.toUpperCase())
  ) {
    throw new AuthError(
      `SASL mechanism ${forced} (from auth=sasl.${forced}) is not offered by the server, which offers ${offered.join(", ") || "none"}`,
    );
  }
  const mechanism = await createMechanism(offered, forced);
  try {
    let initial = mechanism.start();
    let reply = await callProcedure(connection, RemoteProcedures.AuthSaslStart, {
      mech: mechanism.name,
      ...toWire(initial),
    });
    for (let step = 0; ; step++) {
      const serverData = reply.nil ? null : reply.data;
      if (reply.complete) {
        if (!mechanism.complete) mechanism.step(serverData);
        if (!mechanism.complete) {
          throw new AuthError(
            `${mechanism.name}: the server ended the exchange before the client could verify it`,
          );
        }
        return mechanism.name;
      }
      if (step >= MAX_STEPS)
        throw new AuthError(`${mechanism.name}: the server did not finish in ${MAX_STEPS} steps`);
      initial = mechanism.step(serverData);
      reply = await callProcedure(connection, RemoteProcedures.AuthSaslStep, toWire(initial));
    }
  } catch (error) {
    if (error instanceof LibvirtError) {
      throw new AuthError(`SASL ${mechanism.name} authentication failed: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
}

function toWire(data: Buffer | null): { nil: number; data: Buffer } {
  return data === null ? { nil: 1, data: EMPTY } : { nil: 0, data };
}
