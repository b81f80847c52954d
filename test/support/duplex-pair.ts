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
