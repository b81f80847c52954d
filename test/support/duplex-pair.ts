/**
 * Two connected in-memory Duplex streams: what one side writes, the other reads. Stands in for a
 * socket when a test plays the daemon's side itself.
 */
import { Duplex } from "node:stream";

export function duplexPair(): [Duplex, Duplex] {
  const make = (peer: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        peer().push(chunk);
        callback();
      },
      final(callback) {
        peer().push(null);
        callback();
      },
    });
  const left: Duplex = make(() => right);
  const right: Duplex = make(() => left);
  return [left, right];
}

/**
 * Like duplexPair, but a write completes only once the other side has taken the bytes, so a
 * reader that stops reading pushes back on the writer, as a socket does.
 */
export function backpressurePair(): [Duplex, Duplex] {
  const blocked = new Map<Duplex, () => void>();
  const make = (peer: () => Duplex) => {
    const side: Duplex = new Duplex({
      read() {
        const release = blocked.get(side);
        blocked.delete(side);
        release?.();
      },
      write(chunk: Buffer, _encoding, callback) {
        if (peer().push(chunk)) callback();
        else blocked.set(peer(), callback);
      },
      final(callback) {
        peer().push(null);
        callback();
      },
    });
    return side;
  };
  const left: Duplex = make(() => right);
  const right: Duplex = make(() => left);
  return [left, right];
}
