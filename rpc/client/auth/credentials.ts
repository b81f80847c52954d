/**
 * Credentials, modelled on libvirt's `virConnectCredential`: a request has a type, a prompt and an
 * optional default; a chain of sources answers the requests.
 *
 * The rule libvirt hardened (commit 58b7cafc, rhbz#2181235) and virtwire keeps everywhere: a
 * source either answers a request with a non-empty value, or says it cannot (`undefined`, so the
 * next source is asked). A source that reports success while leaving a requested credential empty
 * is an error — the connection fails naming the credential and the source, and nothing empty is
 * ever sent to the server. Values never appear in messages.
 */
import { AuthError } from "../../errors";

/** `virConnectCredentialType` */
export enum CredentialType {
  USERNAME = 1,
  AUTHNAME = 2,
  LANGUAGE = 3,
  CNONCE = 4,
  PASSPHRASE = 5,
  ECHOPROMPT = 6,
  NOECHOPROMPT = 7,
  REALM = 8,
  EXTERNAL = 9,
}

export interface CredentialRequest {
  type: CredentialType;
  /** What is asked, e.g. "Password for root@kvm1". */
  prompt: string;
  /** Extra text from the server or transport, e.g. an SSH host key fingerprint. */
  challenge?: string;
  /** A value to offer; used only if a source answers with it explicitly. */
  defaultResult?: string;
}

/** What the credentials are for, so sources such as auth.conf can pick a matching entry. */
export interface CredentialContext {
  /** `libvirt` (SASL to a daemon) or `ssh`. */
  service: "libvirt" | "ssh";
  /** The host of the URI, or `localhost` for a local socket. */
  host: string;
}

export interface CredentialSource {
  /** Where the values come from, for messages: `stack config`, `auth.conf /etc/libvirt/auth.conf`. */
  readonly description: string;
  /**
   * Answers what it can: one entry per request, `undefined` for "cannot answer this one". Returning
   * an empty string, or an array of the wrong length, breaks the contract and fails the connection.
   */
  collect(
    requests: readonly CredentialRequest[],
    context: CredentialContext,
  ): Promise<(string | undefined)[]>;
}

/** Human names of the credential types, for messages. */
export function credentialName(type: CredentialType): string {
  switch (type) {
    case CredentialType.USERNAME:
      return "user name (authorization id)";
    case CredentialType.AUTHNAME:
      return "user name";
    case CredentialType.PASSPHRASE:
      return "password";
    case CredentialType.REALM:
      return "realm";
    case CredentialType.ECHOPROMPT:
    case CredentialType.NOECHOPROMPT:
      return "answer to a prompt";
    default:
      return CredentialType[type]?.toLowerCase() ?? `credential type ${type}`;
  }
}

/**
 * Asks each source in turn for the requests still unanswered. Returns one non-empty value per
 * request, or throws an AuthError naming what is missing and every source that was asked.
 */
export async function collectCredentials(
  requests: readonly CredentialRequest[],
  sources: readonly CredentialSource[],
  context: CredentialContext,
): Promise<string[]> {
  const answers: (string | undefined)[] = requests.map(() => undefined);
  for (const source of sources) {
    const open = requests
      .map((request, index) => ({ request, index }))
      .filter(({ index }) => answers[index] === undefined);
    if (open.length === 0) break;
    const results = await source.collect(
      open.map(({ request }) => request),
      context,
    );
    if (!Array.isArray(results) || results.length !== open.length) {
      throw new AuthError(
        `the credential source "${source.description}" returned ${Array.isArray(results) ? results.length : "no"} answers for ${open.length} requests; nothing was sent to the server`,
      );
    }
    open.forEach(({ request, index }, position) => {
      const value = results[position];
      if (value === undefined) return;
      if (typeof value !== "string" || value.length === 0) {
        throw new AuthError(
          `the credential source "${source.description}" reported success but left the ${credentialName(request.type)} ("${request.prompt}") empty; nothing was sent to the server`,
        );
      }
      answers[index] = value;
    });
  }
  const missing = requests.filter((_, index) => answers[index] === undefined);
  if (missing.length > 0) {
    const tried = sources.map((source) => source.description).join(", ") || "none configured";
    throw new AuthError(
      `no credential source could supply the ${missing.map((r) => credentialName(r.type)).join(" and ")} for ${context.service} on ${context.host} (asked: ${tried})`,
    );
  }
  return answers as string[];
}

/**
 * Fixed values, e.g. from stack config: answers USERNAME/AUTHNAME and PASSPHRASE when set. A value
 * that is set but empty is passed on as empty, so the rule above reports it.
 */
export function staticCredentials(
  description: string,
  values: { username?: string; password?: string },
): CredentialSource {
  return {
    description,
    async collect(requests) {
      return requests.map((request) => {
        switch (request.type) {
          case CredentialType.USERNAME:
          case CredentialType.AUTHNAME:
            return values.username;
          case CredentialType.PASSPHRASE:
            return values.password;
          default:
            return undefined;
        }
      });
    },
  };
}

/** Environment variables `VIRTWIRE_USERNAME` and `VIRTWIRE_PASSWORD` (or the given names). */
export function environmentCredentials(
  env: NodeJS.ProcessEnv = process.env,
  names = { username: "VIRTWIRE_USERNAME", password: "VIRTWIRE_PASSWORD" },
): CredentialSource {
  return staticCredentials(`environment (${names.username}, ${names.password})`, {
    username: env[names.username],
    password: env[names.password],
  });
}

/**
 * An application callback with libvirt's contract: it receives every open request and returns a
 * value for each, or `null` to say it cannot answer (the next source is asked). Returning an
 * empty or missing value for any request is an error.
 */
export function callbackCredentials(
  callback: (
    requests: readonly CredentialRequest[],
    context: CredentialContext,
  ) => Promise<string[] | null> | string[] | null,
  description = "credential callback",
): CredentialSource {
  return {
    description,
    async collect(requests, context) {
      const results = await callback(requests, context);
      if (results === null) return requests.map(() => undefined);
      return requests.map((_, index) => results[index] ?? "");
    },
  };
}
