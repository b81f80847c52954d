/**
 * libvirt connection URIs:  driver[+transport]://[user@][host][:port]/path[?param=value&…]
 *
 * Parsing splits off what only the client uses (transport, user, host, port and the remote
 * driver's own parameters) and computes the `name` sent in CONNECT_OPEN, e.g.
 * `qemu+ssh://admin@kvm1/system?keyfile=/k` → transport ssh, host kvm1, name `qemu:///system`.
 */
import { UriError } from "../errors";

export type TransportName = "unix" | "tcp" | "tls" | "ssh" | "libssh" | "libssh2" | "ext";

const TRANSPORTS = new Set<TransportName>([
  "unix",
  "tcp",
  "tls",
  "ssh",
  "libssh",
  "libssh2",
  "ext",
]);

/** Parameters libvirt's remote driver consumes itself (never forwarded to the server). */
export const CLIENT_PARAMETERS = [
  "name",
  "socket",
  "mode",
  "proxy",
  "netcat",
  "command",
  "keyfile",
  "no_verify",
  "no_tty",
  "no_sanity",
  "known_hosts",
  "known_hosts_verify",
  "sshauth",
  "pkipath",
  "tls_priority",
  "auth",
  "authfile",
] as const;
export type ClientParameter = (typeof CLIENT_PARAMETERS)[number];

export interface LibvirtUri {
  /** The URI as given. */
  uri: string;
  /** `qemu`, `lxc`, `test`, …, or `remote` to let the server choose. */
  driver: string;
  transport: TransportName;
  user?: string;
  host?: string;
  port?: number;
  /** `/system`, `/session`, … */
  path: string;
  params: Partial<Record<ClientParameter, string>>;
  /** What CONNECT_OPEN carries: the driver URI without client-side parts (`qemu:///system`). */
  name: string;
}

const URI_PATTERN =
  /^([A-Za-z][A-Za-z0-9._-]*)(?:\+([A-Za-z0-9]+))?:\/\/(?:([^@/?]*)@)?(\[[^\]]*\]|[^/:?]*)(?::(\d*))?(\/[^?#]*)?(?:\?([^#]*))?$/;

export function parseLibvirtUri(uri: string): LibvirtUri {
  const match = URI_PATTERN.exec(uri);
  if (!match) {
    throw new UriError(
      `cannot parse libvirt URI ${JSON.stringify(uri)}: expected driver[+transport]://[user@][host][:port]/path[?params], e.g. qemu:///system or qemu+ssh://root@host/system`,
    );
  }
  const [, driver, transportText, userText, hostText, portText, pathText, query] = match;
  const host = hostText ? decodeURIComponent(hostText.replace(/^\[(.*)\]$/, "$1")) : undefined;
  const transport = (transportText?.toLowerCase() ?? (host ? "tls" : "unix")) as TransportName;
  if (!TRANSPORTS.has(transport)) {
    throw new UriError(
      `unknown transport "${transportText}" in libvirt URI ${JSON.stringify(uri)}: use one of ${[...TRANSPORTS].join(", ")}`,
    );
  }
  if (transport === "unix" && host) {
    throw new UriError(
      `libvirt URI ${JSON.stringify(uri)} names a host, which the unix transport cannot reach: use +ssh, +tls or +tcp`,
    );
  }
  let port: number | undefined;
  if (portText !== undefined && portText !== "") {
    port = Number(portText);
    if (port < 1 || port > 65535)
      throw new UriError(`port ${portText} in libvirt URI is out of range`);
  }
  const params = parseParams(query ?? "", uri);
  const path = pathText ?? "";
  return {
    uri,
    driver: driver!,
    transport,
    user: userText ? decodeURIComponent(userText) : undefined,
    host,
    port,
    path,
    params,
    name: params.name ?? (driver === "remote" ? "" : `${driver}://${path}`),
  };
}

function parseParams(query: string, uri: string): Partial<Record<ClientParameter, string>> {
  const params: Partial<Record<ClientParameter, string>> = {};
  for (const part of query.split(/[&;]/)) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const key = decodeURIComponent(eq < 0 ? part : part.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? "" : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, " "));
    if (!(CLIENT_PARAMETERS as readonly string[]).includes(key)) {
      throw new UriError(
        `unknown parameter "${key}" in libvirt URI ${JSON.stringify(redact(uri))}: supported parameters are ${CLIENT_PARAMETERS.join(", ")}`,
      );
    }
    params[key as ClientParameter] = value;
  }
  return params;
}

/** The URI with any password in its user part hidden, for messages. */
export function redact(uri: string): string {
  return uri.replace(/^([^:]+:\/\/[^:@/]*):[^@/]*@/, "$1:***@");
}
