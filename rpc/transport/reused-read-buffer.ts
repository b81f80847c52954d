/**
 * Plain sockets (unix, tcp) that read into one reused buffer. By default Node.js gives every read
 * a fresh 64 KiB buffer; for the small replies of most calls allocating it was a large part of the
 * client's work (bench/run.sh: sequential calls about a tenth faster without it, and a smaller
 * peak RSS). Each read is copied out at its own length and pushed into the socket's readable side,
 * so consumers see the same 'data', 'end' and backpressure as on any socket. TLS and SSH have
 * their own read paths.
 */
import { NetConnectOpts, Socket, createConnection } from "node:net";

/** libuv reads at most this much per read, as Node.js does by default. */
const READ_BUFFER_SIZE = 64 * 1024;

export function connectReusingReadBuffer(options: NetConnectOpts): Socket {
  const buffer = Buffer.allocUnsafe(READ_BUFFER_SIZE);
  const socket: Socket = createConnection({
    ...options,
    onread: {
      buffer,
      // Returning false pauses the socket, as a full readable buffer does on any socket.
      callback: (length, bytes) =>
        !socket.destroyed && socket.push(Buffer.from(bytes.subarray(0, length))),
    },
  });
  return socket;
}
