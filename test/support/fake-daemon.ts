/**
 * The daemon's side of an in-memory connection, for faults and exchanges a real daemon cannot be
 * made to produce on demand: it collects the client's packets and lets the test answer them.
 */
import { Duplex } from "node:stream";
import { Connection } from "../../rpc/client/connection";
import { Packet, PacketDecoder } from "../../rpc/protocol/packet";
import { duplexPair } from "./duplex-pair";

export class FakeDaemon {
  readonly received: Packet[] = [];
  private readonly decoder = new PacketDecoder();
  private waiters: (() => void)[] = [];

  constructor(readonly socket: Duplex) {
    socket.on("data", (chunk: Buffer) => {
      this.received.push(...this.decoder.push(chunk));
      this.waiters.splice(0).forEach((wake) => wake());
    });
  }

  /** Waits until `count` packets arrived and removes them from `received`. */
  async nextCalls(count: number): Promise<Packet[]> {
    while (this.received.length < count) await new Promise<void>((wake) => this.waiters.push(wake));
    return this.received.splice(0, count);
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }
}

/** A client Connection wired to a FakeDaemon. */
export function fakeConnection(): { connection: Connection; daemon: FakeDaemon; server: Duplex } {
  const [client, server] = duplexPair();
  return { connection: new Connection(client), daemon: new FakeDaemon(server), server };
}
