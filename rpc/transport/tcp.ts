/**
 * The tcp transport: plain TCP to libvirtd's `listen_tcp` port (16509), no encryption. libvirt
 * treats it as insecure: SASL PLAIN is refused on it, and only a SASL mechanism with a security
 * layer protects it. Meant for test beds and trusted networks.
 */
import type { Duplex } from "node:stream";
import { ConnectionClosedError } from "../errors";
import { connectSocket } from "./connect-socket";
import { connectReusingReadBuffer } from "./reused-read-buffer";

export const DEFAULT_TCP_PORT = 16509;

export function dialTcp(host: string, port: number, signal?: AbortSignal): Promise<Duplex> {
  const socket = connectReusingReadBuffer({ host, port });
  socket.setNoDelay(true);
  return connectSocket(socket, "connect", signal, (error) => {
    return new ConnectionClosedError(describeNetworkError("tcp", host, port, error), {
      cause: error,
    });
  });
}

/** A connection failure of a network transport, with the likely fix. */
export function describeNetworkError(
  transport: "tcp" | "tls" | "ssh",
  host: string,
  port: number,
  error: NodeJS.ErrnoException,
): string {
  const where = `${formatHostPort(host, port)} (${transport})`;
  switch (error.code) {
    case "ECONNREFUSED":
      return `cannot connect to ${where}: connection refused; ${LISTEN_HINTS[transport]}`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `cannot connect to ${where}: the host name does not resolve (${error.code})`;
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `cannot connect to ${where}: the host is unreachable (${error.code})`;
    default:
      return `cannot connect to ${where}: ${error.message}`;
  }
}

const LISTEN_HINTS = {
  tcp: "is libvirtd started with --listen (or virtproxyd-tcp.socket enabled) and listen_tcp = 1?",
  tls: "is libvirtd started with --listen (or virtproxyd-tls.socket enabled) and listen_tls = 1?",
  ssh: "is sshd running on that port?",
};

/** `host:port`, with brackets around IPv6 addresses. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
