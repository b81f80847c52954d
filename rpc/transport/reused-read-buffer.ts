/**
 * Plain sockets (unix, tcp) that read into slabs of their own. By default Node.js gives every read
 * a fresh 64 KiB buffer; for the small replies of most calls allocating it was a large part of the
 * client's work (bench/run.sh: sequential calls about a tenth faster without it, and a smaller
 * peak RSS). Here each read goes into the unused rest of a 64 KiB slab and is handed on as a view
 * of the bytes it filled, so nothing is copied and a slab serves many small replies; a new slab
 * is taken once less than READ_MIN is left. The bytes are pushed into the socket's readable side,
 * so consumers see the same 'data', 'end' and backpressure as on any socket. TLS and SSH have
 * their own read paths.
 */
import { NetConnectOpts, Socket, createConnection } from "node:net";

const SLAB_SIZE = 64 * 1024;
/** The least room a read gets: a stream's data still comes in reads of 16 to 64 KiB. */
const READ_MIN = 16 * 1024;

export function connectReusingReadBuffer(options: NetConnectOpts): Socket {
  let slab = Buffer.allocUnsafe(SLAB_SIZE);
  let used = 0;
  const socket: Socket = createConnection({
    ...options,
    onread: {
      // Asked before the first read and after each one: where the next read goes.
      buffer: () => slab.subarray(used),
      // Returning false (push's "stop") pauses the socket, as a full readable buffer does on any
      // socket; without it a paused stream download would read on without bound.
      callback: (length) => {
        const read = slab.subarray(used, used + length);
        used += length;
        if (SLAB_SIZE - used < READ_MIN) {
          slab = Buffer.allocUnsafe(SLAB_SIZE);
          used = 0;
        }
        return socket.push(read);
      },
    },
  });
  return socket;
}
