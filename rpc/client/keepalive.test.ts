import { Duplex } from "node:stream";
import { ConnectionClosedError, KeepaliveTimeoutError } from "../errors";
import { MessageStatus, MessageType } from "../protocol/header";
import { KeepaliveProcedure, KeepaliveProgram } from "../protocol/keepalive-program";
import { Packet, PacketDecoder } from "../protocol/packet";
import { RemoteProcedures } from "../protocol/remote";
import { Libvirt } from "../libvirt";
import { duplexPair } from "../../test/support/duplex-pair";
import { scriptedDaemon } from "../../test/support/fake-daemon";
import { packet } from "../../test/support/packets";
import { callProcedure } from "./call";
import { Connection } from "./connection";
import { KeepAlive, superviseConnection, systemTimers } from "./keepalive";

// Streams need real nextTick/microtasks; only the clocks and timers are fake.
const fakeTimers = () =>
  jest.useFakeTimers({ doNotFake: ["nextTick", "queueMicrotask", "setImmediate"] });

function fakePeer() {
  const peer = { sendPing: jest.fn(), onDead: jest.fn<void, [KeepaliveTimeoutError]>() };
  return peer;
}

describe("KeepAlive", () => {
  beforeEach(fakeTimers);
  afterEach(() => jest.useRealTimers());

  it("sends nothing while the peer keeps talking", () => {
    const peer = fakePeer();
    const keepalive = new KeepAlive(peer, { interval: 5, count: 5 });
    keepalive.start();
    for (let second = 0; second < 60; second++) {
      jest.advanceTimersByTime(1000);
      keepalive.received();
    }
    expect(peer.sendPing).not.toHaveBeenCalled();
    expect(peer.onDead).not.toHaveBeenCalled();
    keepalive.stop();
  });

  it("sends a PING after one interval of silence, then one per silent interval", () => {
    const peer = fakePeer();
    new KeepAlive(peer, { interval: 5, count: 5 }).start();
    jest.advanceTimersByTime(4999);
    expect(peer.sendPing).toHaveBeenCalledTimes(0);
    jest.advanceTimersByTime(1);
    expect(peer.sendPing).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(5000);
    expect(peer.sendPing).toHaveBeenCalledTimes(2);
  });

  it("declares the peer dead after count unanswered PINGs and one more interval", () => {
    const peer = fakePeer();
    const keepalive = new KeepAlive(peer, { interval: 2, count: 3 });
    keepalive.start();
    jest.advanceTimersByTime(7999);
    expect(peer.sendPing).toHaveBeenCalledTimes(3);
    expect(peer.onDead).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(peer.onDead).toHaveBeenCalledTimes(1);
    const error = peer.onDead.mock.calls[0]![0];
    expect(error).toBeInstanceOf(KeepaliveTimeoutError);
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect(error).toMatchObject({ silentMs: 8000, interval: 2, count: 3 });
    expect(error.message).toBe(
      "the libvirt daemon stopped answering: nothing received for 8.0 s " +
        "(3 keepalive PINGs at 2 s intervals unanswered); the connection was closed",
    );
    expect(keepalive.active).toBe(false);
    expect(jest.getTimerCount()).toBe(0);
  });

  it("counts any received packet as life, not only PONGs, and starts counting again", () => {
    const peer = fakePeer();
    const keepalive = new KeepAlive(peer, { interval: 2, count: 3 });
    keepalive.start();
    jest.advanceTimersByTime(6000); // three PINGs unanswered
    expect(peer.sendPing).toHaveBeenCalledTimes(3);
    jest.advanceTimersByTime(1500);
    keepalive.received(); // an event or a reply arrives at t=7.5 s, just before the deadline
    jest.advanceTimersByTime(500);
    expect(peer.onDead).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1500); // t=9.5 s: two silent seconds again, the count starts over
    expect(peer.sendPing).toHaveBeenCalledTimes(4);
    jest.advanceTimersByTime(5999);
    expect(peer.onDead).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1); // t=15.5 s: 8 s after the last packet
    expect(peer.onDead).toHaveBeenCalledTimes(1);
    expect(peer.sendPing).toHaveBeenCalledTimes(6);
  });

  it("measures the silence from the last packet, not from the last tick", () => {
    const peer = fakePeer();
    const keepalive = new KeepAlive(peer, { interval: 5, count: 1 });
    keepalive.start();
    jest.advanceTimersByTime(4000);
    keepalive.received(); // silence starts again at t=4 s
    jest.advanceTimersByTime(4999);
    expect(peer.sendPing).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1); // t=9 s: 5 s of silence
    expect(peer.sendPing).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(4999);
    expect(peer.onDead).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(peer.onDead).toHaveBeenCalledTimes(1);
    expect(peer.onDead.mock.calls[0]![0].silentMs).toBe(10_000);
  });

  it("with count 0 declares the peer dead after one silent interval without pinging", () => {
    const peer = fakePeer();
    new KeepAlive(peer, { interval: 1, count: 0 }).start();
    jest.advanceTimersByTime(1000);
    expect(peer.sendPing).not.toHaveBeenCalled();
    expect(peer.onDead).toHaveBeenCalledTimes(1);
  });

  it("does not count silence while we ourselves stopped reading", () => {
    let paused = true;
    const peer = { ...fakePeer(), readingPaused: () => paused };
    new KeepAlive(peer, { interval: 2, count: 3 }).start();
    jest.advanceTimersByTime(60_000);
    expect(peer.sendPing).not.toHaveBeenCalled();
    expect(peer.onDead).not.toHaveBeenCalled();
    paused = false;
    jest.advanceTimersByTime(2000);
    expect(peer.sendPing).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(6000);
    expect(peer.onDead).toHaveBeenCalledTimes(1);
  });

  it("leaves no timer behind once stopped", () => {
    const peer = fakePeer();
    const keepalive = new KeepAlive(peer, { interval: 5, count: 5 });
    keepalive.start();
    expect(jest.getTimerCount()).toBe(1);
    keepalive.stop();
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(60_000);
    expect(peer.sendPing).not.toHaveBeenCalled();
  });

  it("refuses intervals that are not positive and counts that are not whole numbers", () => {
    const peer = fakePeer();
    expect(() => new KeepAlive(peer, { interval: 0, count: 5 })).toThrow(RangeError);
    expect(() => new KeepAlive(peer, { interval: Number.NaN, count: 5 })).toThrow(RangeError);
    expect(() => new KeepAlive(peer, { interval: 5, count: -1 })).toThrow(RangeError);
    expect(() => new KeepAlive(peer, { interval: 5, count: 1.5 })).toThrow(RangeError);
  });
});

describe("systemTimers", () => {
  it("hands out unref'd timers, so keepalive never keeps node alive", () => {
    const handle = systemTimers.setTimeout(() => undefined, 60_000) as NodeJS.Timeout;
    expect(handle.hasRef()).toBe(false);
    systemTimers.clearTimeout(handle);
  });
});

/** The daemon's side: answers PINGs with PONGs while `answering`, and records everything. */
class FakePeer {
  readonly received: Packet[] = [];
  answering = true;
  private readonly decoder = new PacketDecoder();

  constructor(readonly socket: Duplex) {
    socket.on("data", (chunk: Buffer) => {
      for (const received of this.decoder.push(chunk)) {
        this.received.push(received);
        const { header } = received;
        if (
          this.answering &&
          header.program === KeepaliveProgram.number &&
          header.procedure === KeepaliveProcedure.PING
        ) {
          socket.write(keepalivePacket(KeepaliveProcedure.PONG));
        }
      }
    });
  }

  get pings(): number {
    return this.received.filter((p) => p.header.program === KeepaliveProgram.number).length;
  }
}

function keepalivePacket(procedure: KeepaliveProcedure): Buffer {
  return packet({
    program: KeepaliveProgram.number,
    procedure,
    type: MessageType.MESSAGE,
    serial: 0,
    status: MessageStatus.OK,
  });
}

function setup(options = { interval: 2, count: 3 }) {
  const [client, server] = duplexPair();
  const connection = new Connection(client);
  const peer = new FakePeer(server);
  const keepalive = superviseConnection(connection, options);
  return { connection, peer, server, keepalive };
}

describe("superviseConnection", () => {
  beforeEach(fakeTimers);
  afterEach(() => jest.useRealTimers());

  it("keeps a quiet connection open while the daemon answers PINGs", async () => {
    const { connection, peer, keepalive } = setup();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(connection.closed).toBe(false);
    expect(peer.pings).toBe(30);
    expect(peer.received[0]!.header).toEqual({
      program: KeepaliveProgram.number,
      version: 1,
      procedure: KeepaliveProcedure.PING,
      type: MessageType.MESSAGE,
      serial: 0,
      status: MessageStatus.OK,
    });
    keepalive.stop();
  });

  it("counts the daemon's own PINGs as life and sends none of its own", async () => {
    const { connection, peer, server, keepalive } = setup();
    for (let i = 0; i < 20; i++) {
      await jest.advanceTimersByTimeAsync(1500);
      server.write(keepalivePacket(KeepaliveProcedure.PING));
    }
    expect(connection.closed).toBe(false);
    expect(peer.received.every((p) => p.header.procedure === KeepaliveProcedure.PONG)).toBe(true);
    keepalive.stop();
  });

  it("fails pending calls with KeepaliveTimeoutError and closes when the daemon goes silent", async () => {
    const { connection, peer } = setup();
    peer.answering = false;
    const closed = new Promise<Error>((resolve) => connection.once("closed", resolve));
    const call = callProcedure(connection, RemoteProcedures.ConnectGetHostname, undefined);
    const outcome = call.catch((error: unknown) => error);
    await jest.advanceTimersByTimeAsync(7999);
    expect(connection.closed).toBe(false);
    expect(peer.pings).toBe(3);
    await jest.advanceTimersByTimeAsync(1);
    const error = await outcome;
    expect(error).toBeInstanceOf(KeepaliveTimeoutError);
    expect(connection.closed).toBe(true);
    await expect(closed).resolves.toBe(error);
    await expect(
      callProcedure(connection, RemoteProcedures.ConnectGetHostname, undefined),
    ).rejects.toBe(error);
    expect(jest.getTimerCount()).toBe(0);
  });

  it("does not declare the daemon dead while a download holds reading paused", async () => {
    const { connection, peer, keepalive } = setup();
    peer.answering = false;
    connection.pauseReading();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(connection.closed).toBe(false);
    expect(peer.pings).toBe(0);
    connection.resumeReading();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(connection.closeReason).toBeInstanceOf(KeepaliveTimeoutError);
    expect(keepalive.active).toBe(false);
  });

  it("stops when the connection closes for another reason", async () => {
    const { connection, keepalive, server } = setup();
    server.end();
    await jest.advanceTimersByTimeAsync(0);
    expect(connection.closed).toBe(true);
    expect(keepalive.active).toBe(false);
    expect(jest.getTimerCount()).toBe(0);
  });
});

describe("Libvirt.connect", () => {
  beforeEach(fakeTimers);
  afterEach(() => jest.useRealTimers());

  async function connect(
    serverKeepalive: boolean,
    keepalive?: { interval: number; count: number } | false,
  ) {
    const [client, server] = duplexPair();
    const daemon = scriptedDaemon(server, { keepalive: serverKeepalive });
    const lv = await Libvirt.connect("qemu:///system", { transport: client, keepalive });
    return { lv, daemon };
  }

  it("supervises the connection and reports a dead daemon with the closed event", async () => {
    const { lv, daemon } = await connect(true, { interval: 1, count: 2 });
    const closed = new Promise<Error>((resolve) => lv.once("closed", resolve));
    await jest.advanceTimersByTimeAsync(3000);
    expect(daemon.pings).toBe(2);
    const reason = await closed;
    expect(reason).toBeInstanceOf(KeepaliveTimeoutError);
    expect(lv.closed).toBe(true);
    expect(lv.closeReason).toBe(reason);
  });

  it("pings every 5 s and gives up after 30 s of silence by default", async () => {
    const { lv, daemon } = await connect(true);
    await jest.advanceTimersByTimeAsync(29_999);
    expect(daemon.pings).toBe(5);
    expect(lv.closed).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(lv.closeReason).toBeInstanceOf(KeepaliveTimeoutError);
  });

  it("sends no PINGs when keepalive is off or the server does not support it", async () => {
    for (const [serverKeepalive, keepalive] of [
      [true, false],
      [false, undefined],
    ] as const) {
      const { lv, daemon } = await connect(serverKeepalive, keepalive);
      await jest.advanceTimersByTimeAsync(120_000);
      expect(daemon.pings).toBe(0);
      expect(lv.closed).toBe(false);
      await lv.close();
    }
  });

  it("refuses a bad keepalive setting before connecting", async () => {
    const [client] = duplexPair();
    await expect(
      Libvirt.connect("qemu:///system", { transport: client, keepalive: { interval: -1 } }),
    ).rejects.toThrow(RangeError);
  });
});
