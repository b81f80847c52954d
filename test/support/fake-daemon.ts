/**
 * The daemon's side of an in-memory connection, for faults and exchanges a real daemon cannot be
 * made to produce on demand: it collects the client's packets and lets the test answer them.
 */
import { Duplex } from "node:stream";
import { Connection } from "../../rpc/client/connection";
import { MessageType } from "../../rpc/protocol/header";
import { KeepaliveProgram } from "../../rpc/protocol/keepalive-program";
import { Packet, PacketDecoder } from "../../rpc/protocol/packet";
import { RemoteProcedures } from "../../rpc/protocol/remote";
import { XdrReader, encode } from "../../rpc/xdr";
import { duplexPair } from "./duplex-pair";
import { packet } from "./packets";

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

/**
 * Answers the open sequence like a daemon whose keepalive support is `keepalive`, and every later
 * call with an empty OK, except the procedures in `ignore`, which it never answers; never answers
 * PINGs. For `Libvirt.connect({ transport })`.
 */
export function scriptedDaemon(
  socket: Duplex,
  { keepalive = true, ignore = [] }: { keepalive?: boolean; ignore?: readonly number[] } = {},
) {
  const decoder = new PacketDecoder();
  const received: Packet[] = [];
  socket.on("data", (chunk: Buffer) => {
    for (const call of decoder.push(chunk)) {
      received.push(call);
      if (call.header.type !== MessageType.CALL) continue;
      const { procedure, serial } = call.header;
      if (ignore.includes(procedure)) continue;
      let payload: Buffer = Buffer.alloc(0);
      if (procedure === RemoteProcedures.AuthList.number) {
        payload = encode(RemoteProcedures.AuthList.ret, { types: [0] });
      } else if (procedure === RemoteProcedures.ConnectSupportsFeature.number) {
        const { feature } = RemoteProcedures.ConnectSupportsFeature.args.decode(
          new XdrReader(call.payload),
        );
        const supported = feature === 10 ? Number(keepalive) : 1;
        payload = encode(RemoteProcedures.ConnectSupportsFeature.ret, { supported });
      }
      socket.write(packet({ procedure, serial }, payload));
    }
  });
  return {
    received,
    get pings() {
      return received.filter((p) => p.header.program === KeepaliveProgram.number).length;
    },
  };
}
