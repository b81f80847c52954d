/**
 * The unix transport: a stream socket to a local libvirt daemon (libvirtd, virtproxyd or a modular
 * virt<driver>d). The peer is identified by SO_PEERCRED, which is what polkit and ACLs check.
 */
import { existsSync } from "node:fs";
import { createConnection } from "node:net";
import type { Duplex } from "node:stream";
import { ConnectionClosedError } from "../errors";

export const SYSTEM_SOCKET_DIR = "/var/run/libvirt";

/**
 * The system socket for a driver, chosen as libvirt's `mode=auto` does: the per-driver daemon's
 * socket (`virtqemud-sock`) when it exists, else the monolithic/proxy `libvirt-sock`.
 */
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

/** Connects to a unix socket; failures name the socket and the likely fix. */
export function dialUnix(path: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path });
    const onError = (error: NodeJS.ErrnoException) => {
      socket.destroy();
      reject(new ConnectionClosedError(describeDialError(path, error), { cause: error }));
    };
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.off("error", onError);
      resolve(socket);
    });
  });
}

function describeDialError(path: string, error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case "ENOENT":
    case "ECONNREFUSED":
      return `cannot connect to the libvirt socket ${path}: no daemon is listening there (${error.code}); is libvirtd (or virtqemud/virtproxyd) running?`;
    case "EACCES":
      return `cannot connect to the libvirt socket ${path}: permission denied; run as root, join the 'libvirt' group, or use the read-only socket`;
    default:
      return `cannot connect to the libvirt socket ${path}: ${error.message}`;
  }
}
