/**
 * The SASL mechanism factory for user-name-and-password logins: chooses the mechanism from the
 * server's list, then asks the credential sources for exactly what it needs — only once the server
 * has asked for SASL, so no source is consulted (or prompted) needlessly.
 */
import { chooseSaslMechanism, createPasswordMechanism } from "./choose";
import {
  CredentialContext,
  CredentialSource,
  CredentialType,
  collectCredentials,
} from "./credentials";
import { SaslMechanismFactory } from "./sasl";

export function passwordSasl(
  sources: readonly CredentialSource[],
  context: CredentialContext,
  channel: { secure: boolean },
): SaslMechanismFactory {
  return async (offered, forced) => {
    const name = chooseSaslMechanism(offered, forced, channel);
    const [authname, password] = await collectCredentials(
      [
        { type: CredentialType.AUTHNAME, prompt: `User name for ${context.host}` },
        { type: CredentialType.PASSPHRASE, prompt: `Password for ${context.host}` },
      ],
      sources,
      context,
    );
    return createPasswordMechanism(name, { authname: authname!, password: password! });
  };
}
