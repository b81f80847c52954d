/**
 * Which UNIX socket a URI means (libvirt's remote_sockets.c `remoteGetUNIXSocket`): locally for
 * the unix transport, and on the remote host for the SSH transports' netcat command.
 *
 *   system:  /var/run/libvirt/libvirt-sock[-ro]          (legacy: libvirtd, virtproxyd)
 *            /var/run/libvirt/virt<driver>d-sock[-ro]    (direct: the per-driver daemon)
 *   session: $XDG_RUNTIME_DIR/libvirt/libvirt-sock, …/virt<driver>d-sock (no read-only socket)
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { UriError } from "../errors";
import { LibvirtUri, isRemoteDriver, redact } from "./uri";

/** libvirt builds system socket paths from LOCALSTATEDIR, so remote hosts without /run work too. */
export const SYSTEM_SOCKET_DIR = "/var/run/libvirt";

/** What the socket choice depends on besides the URI (injectable for tests). */
export interface SocketEnvironment {
  euid: number;
  runtimeDir: string;
  exists(path: string): boolean;
}

export function currentSocketEnvironment(): SocketEnvironment {
  return {
    euid: process.geteuid?.() ?? 0,
    // GLib's g_get_user_runtime_dir(): $XDG_RUNTIME_DIR, else the user cache dir.
    runtimeDir: process.env.XDG_RUNTIME_DIR || process.env.XDG_CACHE_HOME || `${homedir()}/.cache`,
    exists: existsSync,
  };
}

/**
 * libvirt's REMOTE_DRIVER_OPEN_USER: the per-user (session) daemon is meant for `/session` URIs
 * and for `test+…` URIs, but only when the client does not run as root (root's `/session` URI
 * goes to the system daemon, which opens the session driver for root itself).
 */
export function wantsSessionDaemon(uri: LibvirtUri, env = currentSocketEnvironment()): boolean {
  return (uri.path === "/session" || uri.scheme.startsWith("test+")) && env.euid !== 0;
}

/**
 * The socket for the unix transport: `socket=` if given, else by `mode=`; `auto` picks the
 * per-driver daemon's socket when it exists, else the monolithic/proxy `libvirt-sock`.
 */
export function localSocketPath(
  uri: LibvirtUri,
  readOnly: boolean,
  env = currentSocketEnvironment(),
): string {
  if (uri.params.socket) return uri.params.socket;
  const session = wantsSessionDaemon(uri, env);
  const legacy = socketPath("libvirt", readOnly, session, env);
  const direct = isRemoteDriver(uri)
    ? undefined
    : socketPath(`virt${uri.driver}d`, readOnly, session, env);
  switch (uri.params.mode ?? "auto") {
    case "legacy":
      return legacy;
    case "direct":
      if (!direct) throw new UriError(`mode=direct needs a driver name (${redact(uri.uri)})`);
      return direct;
    default:
      if (direct && env.exists(direct)) return direct;
      return legacy;
  }
}

/**
 * The socket the netcat command on the remote host connects to: `socket=` if given, else the
 * legacy socket, as libvirt assumes for every remote transport (virt-ssh-helper redoes the
 * choice on the remote host). A session URI uses this client's runtime directory, as libvirt
 * does; that is why session URIs default to proxy=native.
 */
export function remoteSocketPath(
  uri: LibvirtUri,
  readOnly: boolean,
  env = currentSocketEnvironment(),
): string {
  if (uri.params.socket) return uri.params.socket;
  return socketPath("libvirt", readOnly, wantsSessionDaemon(uri, env), env);
}

/** Kept for callers that pick the system socket of a driver themselves. */
export function systemSocketPath(
  driver: string,
  readOnly = false,
  dir = SYSTEM_SOCKET_DIR,
): string {
  const suffix = readOnly ? "-sock-ro" : "-sock";
  const direct = `${dir}/virt${driver}d${suffix}`;
  if (driver !== "remote" && existsSync(direct)) return direct;
  return `${dir}/libvirt${suffix}`;
}

function socketPath(
  prefix: string,
  readOnly: boolean,
  session: boolean,
  env: SocketEnvironment,
): string {
  if (session) return `${env.runtimeDir}/libvirt/${prefix}-sock`;
  return `${SYSTEM_SOCKET_DIR}/${prefix}-${readOnly ? "sock-ro" : "sock"}`;
}
