/**
 * The unix transport: a stream socket to a local libvirt daemon (libvirtd, virtproxyd or a modular
 * virt<driver>d). The peer is identified by SO_PEERCRED, which is what polkit and ACLs check.
 */
import type { Duplex } from "node:stream";
import { ConnectionClosedError } from "../errors";
import { connectSocket } from "./connect-socket";
import { connectReusingReadBuffer } from "./reused-read-buffer";

export { systemSocketPath } from "./sockets";

/** Connects to a unix socket; failures name the socket and the likely fix. */
export function dialUnix(path: string, signal?: AbortSignal): Promise<Duplex> {
  return connectSocket(connectReusingReadBuffer({ path }), "connect", signal, (error) => {
    return new ConnectionClosedError(describeDialError(path, error), { cause: error });
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
