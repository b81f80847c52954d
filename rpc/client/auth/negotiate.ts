/**
 * Authentication negotiation (remote_driver.c `remoteAuthenticate`): ask AUTH_LIST, then carry
 * out the first method the server offers. AUTH_LIST is always called, even when no auth is
 * expected: on a polkit-protected socket the server marks a root client authenticated inside it.
 */
import { AuthError, isNoSupport } from "../../errors";
import { RemoteAuthType, RemoteProcedures } from "../../protocol/remote";
import { callProcedure } from "../call";
import { Connection } from "../connection";
import { SaslMechanismFactory, authenticateSasl } from "./sasl";

export interface AuthOptions {
  /** Forces a method, as libvirt's URI parameter `auth=` does (`sasl`, `sasl.<MECH>`, `polkit`). */
  auth?: string;
  /** Builds the SASL mechanism (with its credentials) when the server asks for SASL. */
  sasl?: SaslMechanismFactory;
}

export async function authenticate(
  connection: Connection,
  options: AuthOptions = {},
): Promise<RemoteAuthType> {
  let offered: number[];
  try {
    ({ types: offered } = await callProcedure(connection, RemoteProcedures.AuthList, undefined));
  } catch (error) {
    if (isNoSupport(error)) return RemoteAuthType.NONE; // an ancient server: no auth
    throw error;
  }
  const method = chooseMethod(offered, options.auth);
  switch (method) {
    case RemoteAuthType.NONE:
      return method;
    case RemoteAuthType.POLKIT: {
      const { complete } = await callProcedure(connection, RemoteProcedures.AuthPolkit, undefined);
      if (complete !== 1) throw new AuthError("polkit authentication did not complete");
      return method;
    }
    case RemoteAuthType.SASL: {
      if (!options.sasl) {
        throw new AuthError(
          "the server requires SASL authentication, but no credentials were given: supply a user name and password",
        );
      }
      const forced = options.auth?.startsWith("sasl.")
        ? options.auth.slice("sasl.".length)
        : undefined;
      await authenticateSasl(connection, options.sasl, forced);
      return method;
    }
    default:
      throw new AuthError(`the server asks for unsupported authentication type ${method}`);
  }
}

function chooseMethod(offered: number[], forced: string | undefined): number {
  if (forced === undefined) return offered[0] ?? RemoteAuthType.NONE;
  const wanted =
    forced === "polkit"
      ? RemoteAuthType.POLKIT
      : forced.startsWith("sasl")
        ? RemoteAuthType.SASL
        : undefined;
  if (wanted === undefined) {
    throw new AuthError(
      `unknown authentication type auth=${forced}; use sasl, sasl.<MECHANISM> or polkit`,
    );
  }
  if (!offered.includes(wanted)) {
    throw new AuthError(
      `requested authentication type auth=${forced} is not offered by the server`,
    );
  }
  return wanted;
}
