/**
 * libvirt connection URIs:  driver[+transport]://[user@][host][:port]/path[?param=value&…][#fragment]
 *
 * Parsing splits off what only the client uses (transport, user, host, port and the remote
 * driver's own parameters) and computes the `name` sent in CONNECT_OPEN, e.g.
 * `qemu+ssh://admin@kvm1/system?keyfile=/k` → transport ssh, host kvm1, name `qemu:///system`.
 * The rules follow libvirt's `remoteSplitURIScheme`, `virURIParseParams` and `doRemoteOpen`; where
 * libvirt passes unknown parameters through to the server, virtwire refuses them, so that a typo
 * in a security-relevant parameter (`no_verfy=1`) is never silently ignored.
 */
import { isIPv6 } from "node:net";
import { UriError } from "../errors";
import { OptionNamer, optionPath } from "../client/option-names";

const TRANSPORTS = ["unix", "tcp", "tls", "ssh", "libssh", "libssh2", "ext"] as const;
export type TransportName = (typeof TRANSPORTS)[number];

/** The transports that reach the daemon through an SSH session. */
export const SSH_TRANSPORTS: readonly TransportName[] = ["ssh", "libssh", "libssh2"];

export function isSshTransport(transport: TransportName): boolean {
  return SSH_TRANSPORTS.includes(transport);
}

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

/** `mode=`: which daemon socket to use (libvirt's remote_mode). */
export const SOCKET_MODES = ["auto", "legacy", "direct"] as const;
/** `proxy=`: how the remote end of an SSH session reaches the socket (libvirt's remote_proxy). */
export const SSH_PROXIES = ["auto", "netcat", "native"] as const;
/** `known_hosts_verify=` of libvirt's libssh/libssh2 transports. */
export const KNOWN_HOSTS_VERIFY = ["normal", "auto", "ignore"] as const;
/** `sshauth=`: the SSH authentication methods, in the order to try them. */
export const SSH_AUTH_METHODS = ["agent", "privkey", "password", "keyboard-interactive"] as const;
export type SshAuthMethod = (typeof SSH_AUTH_METHODS)[number];

/** Parameters whose value is an integer flag (non-zero = on), as libvirt's EXTRACT_URI_ARG_BOOL. */
const FLAG_PARAMETERS: readonly ClientParameter[] = ["no_verify", "no_tty", "no_sanity"];

export interface LibvirtUri {
  /** The URI as given. */
  uri: string;
  /** The scheme as given, e.g. `qemu+ssh`. */
  scheme: string;
  /** `qemu`, `lxc`, `test`, …, or `remote` to let the server choose. */
  driver: string;
  transport: TransportName;
  user?: string;
  /** The host without IPv6 brackets (`::1`), percent-escapes decoded. */
  host?: string;
  port?: number;
  /** `/system`, `/session`, … */
  path: string;
  /** The fragment after `#`, if any (libvirt keeps it in the name). */
  fragment?: string;
  /** The client parameters, decoded; the last occurrence of a repeated parameter wins. */
  params: Partial<Record<ClientParameter, string>>;
  /** Every parameter in its original order and spelling, decoded (for the virt-ssh-helper URI). */
  paramList: readonly { name: string; value: string }[];
  /** What CONNECT_OPEN carries: the driver URI without client-side parts (`qemu:///system`). */
  name: string;
}

const URI_PATTERN =
  /^([A-Za-z][A-Za-z0-9._-]*)(?:\+([A-Za-z0-9]+))?:\/\/(?:([^@/?#]*)@)?(\[[^\]/?#]*\]|[^/:?#]*)(?::(\d*))?(\/[^?#]*)?(?:\?([^#]*))?(?:#(.*))?$/;

/** Parses a URI; `optionName` names the client's options in messages (client/option-names.ts). */
export function parseLibvirtUri(uri: string, optionName: OptionNamer = optionPath): LibvirtUri {
  const match = URI_PATTERN.exec(uri);
  if (!match) {
    throw new UriError(
      `cannot parse libvirt URI ${quote(uri)}: expected driver[+transport]://[user@][host][:port]/path[?params], e.g. qemu:///system or qemu+ssh://root@host/system`,
    );
  }
  const [, driver, transportText, userText, hostText, portText, pathText, query, fragment] = match;
  const host = parseHost(hostText ?? "", uri);
  const transport = parseTransport(transportText, host, uri);
  const user = parseUser(userText, uri, optionName);
  const port = parsePort(portText, uri);
  const paramList = parseParams(query ?? "", uri);
  const params: Partial<Record<ClientParameter, string>> = {};
  for (const { name, value } of paramList) params[name.toLowerCase() as ClientParameter] = value;
  const parsed: LibvirtUri = {
    uri,
    scheme: transportText === undefined ? driver! : `${driver}+${transportText}`,
    driver: driver!,
    transport,
    user,
    host,
    port,
    path: pathText ?? "",
    fragment: fragment === undefined ? undefined : decode(fragment, "fragment", uri),
    params,
    paramList,
    name: "",
  };
  validateParams(parsed);
  parsed.name = params.name ?? (isRemoteDriver(parsed) ? "" : driverUri(parsed, []));
  return parsed;
}

/** `remote` / `remote+…`: libvirt sends an empty name and lets the server probe. */
export function isRemoteDriver(uri: LibvirtUri): boolean {
  return uri.driver === "remote";
}

/** A flag parameter (`no_verify`, `no_tty`, `no_sanity`): true when set to a non-zero integer. */
export function uriFlag(uri: LibvirtUri, name: "no_verify" | "no_tty" | "no_sanity"): boolean {
  const value = uri.params[name];
  return value !== undefined && Number.parseInt(value.trim(), 10) !== 0;
}

/**
 * `driver://path[?kept params][#fragment]`, as libvirt's remoteConnectFormatURI builds it: no
 * transport, user, host or port; only the named parameters are kept, their values re-escaped.
 */
export function driverUri(uri: LibvirtUri, keep: readonly string[]): string {
  const query = uri.paramList
    .filter(({ name }) => keep.includes(name.toLowerCase()))
    .map(({ name, value }) => `${name}=${escapeQueryValue(value)}`)
    .join("&");
  return (
    `${uri.driver}://${uri.path}` +
    (query ? `?${query}` : "") +
    (uri.fragment !== undefined ? `#${encodeURI(uri.fragment)}` : "")
  );
}

/** The URI with any password in its user part hidden, for messages. */
export function redact(uri: string): string {
  const start = uri.indexOf("://");
  if (start < 0) return uri;
  const rest = uri.slice(start + 3);
  const authorityEnd = rest.search(/[?#]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  const at = authority.lastIndexOf("@");
  if (at < 0) return uri;
  const colon = authority.indexOf(":");
  if (colon < 0 || colon > at) return uri;
  return `${uri.slice(0, start + 3)}${authority.slice(0, colon)}:***${rest.slice(at)}`;
}

function quote(uri: string): string {
  return JSON.stringify(redact(uri));
}

function decode(text: string, what: string, uri: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new UriError(`the ${what} in libvirt URI ${quote(uri)} has a malformed %-escape`);
  }
}

function parseHost(text: string, uri: string): string | undefined {
  if (text.startsWith("[")) {
    const address = decode(text.slice(1, -1), "host", uri);
    if (!isIPv6(address.replace(/%.*$/, ""))) {
      throw new UriError(
        `the host [${address}] in libvirt URI ${quote(uri)} is not an IPv6 address; brackets are only for IPv6 (e.g. qemu+ssh://[::1]:2222/system)`,
      );
    }
    return address;
  }
  return text ? decode(text, "host", uri) : undefined;
}

function parseTransport(
  text: string | undefined,
  host: string | undefined,
  uri: string,
): TransportName {
  if (text === undefined) return host ? "tls" : "unix";
  const transport = text.toLowerCase() as TransportName;
  if (!TRANSPORTS.includes(transport)) {
    throw new UriError(
      `unknown transport "${text}" in libvirt URI ${quote(uri)}: use one of ${TRANSPORTS.join(", ")}`,
    );
  }
  if (transport === "unix" && host) {
    throw new UriError(
      `libvirt URI ${quote(uri)} names a host, which the unix transport cannot reach: use +ssh, +tls or +tcp`,
    );
  }
  return transport;
}

function parseUser(
  text: string | undefined,
  uri: string,
  optionName: OptionNamer,
): string | undefined {
  if (text === undefined || text === "") return undefined;
  if (text.includes(":")) {
    throw new UriError(
      `libvirt URI ${quote(uri)} carries a password in its user part; passwords do not belong in URIs: pass them through ${optionName("credentials")} or ${optionName("ssh.password")}`,
    );
  }
  return decode(text, "user name", uri);
}

function parsePort(text: string | undefined, uri: string): number | undefined {
  if (text === undefined || text === "") return undefined;
  const port = Number(text);
  if (port < 1 || port > 65535) {
    throw new UriError(`port ${text} in libvirt URI ${quote(uri)} is out of range (1-65535)`);
  }
  return port;
}

/**
 * `&` or `;` separate parameters; names and values are %-decoded (`+` stays a plus, as in
 * libvirt); `name` alone means an empty value; `=value` without a name is ignored, as libvirt does.
 */
function parseParams(query: string, uri: string): { name: string; value: string }[] {
  const list: { name: string; value: string }[] = [];
  for (const part of query.split(/[&;]/)) {
    if (part === "" || part.startsWith("=")) continue;
    const eq = part.indexOf("=");
    const name = decode(eq < 0 ? part : part.slice(0, eq), "parameter name", uri);
    const value = eq < 0 ? "" : decode(part.slice(eq + 1), `value of ${name}`, uri);
    if (!(CLIENT_PARAMETERS as readonly string[]).includes(name.toLowerCase())) {
      throw new UriError(
        `unknown parameter "${name}" in libvirt URI ${quote(uri)}: supported parameters are ${CLIENT_PARAMETERS.join(", ")}`,
      );
    }
    list.push({ name, value });
  }
  return list;
}

function validateParams(uri: LibvirtUri): void {
  const { params } = uri;
  const oneOf = (name: ClientParameter, allowed: readonly string[]) => {
    const value = params[name];
    if (value !== undefined && !allowed.includes(value)) {
      throw new UriError(
        `${name}=${value} in libvirt URI ${quote(uri.uri)} is not valid: use ${allowed.join(", ")}`,
      );
    }
  };
  oneOf("mode", SOCKET_MODES);
  oneOf("proxy", SSH_PROXIES);
  oneOf("known_hosts_verify", KNOWN_HOSTS_VERIFY);
  for (const name of FLAG_PARAMETERS) {
    const value = params[name];
    if (value !== undefined && !/^\s*[+-]?\d+$/.test(value)) {
      throw new UriError(
        `${name}=${value} in libvirt URI ${quote(uri.uri)} is not an integer: use ${name}=1 or ${name}=0`,
      );
    }
  }
  if (params.sshauth !== undefined) parseSshAuth(params.sshauth, uri.uri);
  if (params.proxy === "native" && params.netcat !== undefined) {
    throw new UriError(
      `libvirt URI ${quote(uri.uri)} sets netcat= with proxy=native, which does not use netcat: drop one of them`,
    );
  }
  if (params.mode === "direct" && params.socket === undefined) {
    if (isSshTransport(uri.transport)) {
      throw new UriError(
        `mode=direct cannot be used with the ${uri.transport} transport (libvirt: "Cannot use direct socket mode for ${uri.transport} transport"): use mode=auto, or give socket= with the remote socket path`,
      );
    }
    if (uri.transport === "unix" && isRemoteDriver(uri)) {
      throw new UriError(
        `mode=direct needs a driver to pick the per-driver socket (virt<driver>d-sock), but ${quote(uri.uri)} uses "remote": name the driver (qemu:///system) or use mode=legacy`,
      );
    }
  }
  if (uri.transport === "ext" && !params.command) {
    throw new UriError(`the ext transport needs command=<program> (libvirt URI ${quote(uri.uri)})`);
  }
}

/** The `sshauth=` list, validated: known method names, at least one. */
export function parseSshAuth(value: string, uri = ""): SshAuthMethod[] {
  const methods = value.split(",").map((method) => method.trim());
  for (const method of methods) {
    if (!(SSH_AUTH_METHODS as readonly string[]).includes(method)) {
      throw new UriError(
        `sshauth=${value}${uri ? ` in libvirt URI ${quote(uri)}` : ""} names an unknown method "${method}": use a comma-separated list of ${SSH_AUTH_METHODS.join(", ")}`,
      );
    }
  }
  return methods as SshAuthMethod[];
}

/** Escapes like GLib's g_string_append_uri_escaped: everything but A-Z a-z 0-9 - . _ ~. */
function escapeQueryValue(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
