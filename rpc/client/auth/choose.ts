/**
 * Which SASL mechanism to use, from what the server offers: SCRAM-SHA-256, then SCRAM-SHA-1,
 * then PLAIN — PLAIN only on a channel that is already encrypted or local, since it sends the
 * password itself. GSSAPI (Kerberos) and DIGEST-MD5 are not implemented.
 */
import { AuthError } from "../../errors";
import { SaslMechanism } from "./mechanisms/mechanism";
import { PlainMechanism } from "./mechanisms/plain";
import { ScramMechanism } from "./mechanisms/scram";

export const SUPPORTED_SASL_MECHANISMS = ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"] as const;
export type SupportedSaslMechanism = (typeof SUPPORTED_SASL_MECHANISMS)[number];

const NOT_IMPLEMENTED: Record<string, string> = {
  GSSAPI: "GSSAPI (Kerberos) is not supported by virtwire",
  "DIGEST-MD5": "DIGEST-MD5 is deprecated (RFC 6331) and not supported by virtwire",
};

export function chooseSaslMechanism(
  offered: string[],
  forced: string | undefined,
  channel: { secure: boolean },
): SupportedSaslMechanism {
  const upper = offered.map((name) => name.toUpperCase());
  if (forced !== undefined) {
    const name = forced.toUpperCase();
    if (NOT_IMPLEMENTED[name])
      throw new AuthError(`${NOT_IMPLEMENTED[name]} (requested with auth=sasl.${forced})`);
    if (!(SUPPORTED_SASL_MECHANISMS as readonly string[]).includes(name)) {
      throw new AuthError(
        `SASL mechanism ${forced} is not supported; use one of ${SUPPORTED_SASL_MECHANISMS.join(", ")}`,
      );
    }
    if (name === "PLAIN" && !channel.secure) throw plainRefused();
    return name as SupportedSaslMechanism;
  }
  for (const name of SUPPORTED_SASL_MECHANISMS) {
    if (!upper.includes(name)) continue;
    if (name === "PLAIN" && !channel.secure) continue;
    return name;
  }
  if (upper.includes("PLAIN")) throw plainRefused();
  const reasons = upper.map((name) => NOT_IMPLEMENTED[name]).filter(Boolean);
  throw new AuthError(
    `the server offers SASL mechanisms ${offered.join(", ") || "(none)"}, none of which virtwire can use` +
      (reasons.length ? ` (${reasons.join("; ")})` : "") +
      `; add scram-sha-256 to mech_list in the daemon's /etc/sasl2/libvirt.conf`,
  );
}

export function createPasswordMechanism(
  name: SupportedSaslMechanism,
  credentials: { authname: string; password: string },
): SaslMechanism {
  return name === "PLAIN" ? new PlainMechanism(credentials) : new ScramMechanism(name, credentials);
}

function plainRefused(): AuthError {
  return new AuthError(
    "SASL PLAIN would send the password in clear over an unencrypted channel; use TLS, SSH or the unix socket, or enable scram-sha-256 on the daemon",
  );
}
