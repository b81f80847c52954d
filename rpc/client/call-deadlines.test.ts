import { CallTimeoutError, ConnectionClosedError, TimeoutError } from "../errors";
import { RemoteProcedures } from "../protocol/remote";
import { Libvirt } from "../libvirt";
import { encode, string, struct } from "../xdr";
import { duplexPair } from "../../test/support/duplex-pair";
import { FakeDaemon, scriptedDaemon } from "../../test/support/fake-daemon";
import { packet } from "../../test/support/packets";
import { rejection } from "../../test/support/promises";
import { callProcedure } from "./call";
import { Connection } from "./connection";
import { DEFAULT_DEADLINES, Deadlines, LONG_PROCEDURES, callDeadline } from "./deadlines";

// Streams need real nextTick/microtasks; only the clocks and timers are fake.
beforeEach(() => jest.useFakeTimers({ doNotFake: ["nextTick", "queueMicrotask", "setImmediate"] }));
afterEach(() => jest.useRealTimers());

const Hostname = struct({ hostname: string(100) });
const HOSTNAME = RemoteProcedures.ConnectGetHostname;
const hostnameReply = (serial: number, hostname = "kvm1") =>
  packet({ procedure: HOSTNAME.number, serial }, encode(Hostname, { hostname }));

function setup(deadlines: Partial<Deadlines> = {}) {
  const [client, server] = duplexPair();
  const connection = new Connection(client, { ...DEFAULT_DEADLINES, ...deadlines });
  return { connection, daemon: new FakeDaemon(server), server };
}

/** Whether the promise has settled, without waiting for it. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await jest.advanceTimersByTimeAsync(0);
  return done;
}

describe("call deadlines", () => {
  it("fail a call the daemon never answers with a CallTimeoutError that names the procedure", async () => {
    const { connection, daemon } = setup({ callTimeoutMs: 2000 });
    const call = callProcedure(connection, HOSTNAME, undefined);
    call.catch(() => undefined);
    await daemon.nextCalls(1);
    await jest.advanceTimersByTimeAsync(1999);
    expect(await settled(call)).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    const error = await call.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CallTimeoutError);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({
      procedure: "ConnectGetHostname",
      timeoutMs: 2000,
      option: "callTimeoutMs",
    });
    expect((error as Error).message).toBe(
      "the libvirt daemon did not answer ConnectGetHostname within 2 s; the call was abandoned, " +
        "though it may still complete on the host. Check the daemon there (its log; a hung QEMU " +
        "process or storage), or allow ConnectGetHostname more time (callTimeoutMs)",
    );
    expect(connection.pendingCalls).toBe(0);
    expect(connection.closed).toBe(false);
  });

  it("drop the reply that comes after the deadline, and the connection carries on", async () => {
    const { connection, daemon } = setup({ callTimeoutMs: 1000 });
    const late = callProcedure(connection, HOSTNAME, undefined);
    const [call] = await daemon.nextCalls(1);
    await jest.advanceTimersByTimeAsync(1000);
    await expect(late).rejects.toBeInstanceOf(CallTimeoutError);
    expect(connection.awaitsLateReply(call!.header.serial)).toBe(true);

    daemon.send(hostnameReply(call!.header.serial, "late"));
    await jest.advanceTimersByTimeAsync(0);
    expect(connection.closed).toBe(false);
    expect(connection.awaitsLateReply(call!.header.serial)).toBe(false);

    const next = callProcedure(connection, HOSTNAME, undefined);
    const [second] = await daemon.nextCalls(1);
    expect(second!.header.serial).not.toBe(call!.header.serial);
    daemon.send(hostnameReply(second!.header.serial));
    await expect(next).resolves.toEqual({ hostname: "kvm1" });
  });

  it("still fail the connection on a reply to a serial nobody ever called", async () => {
    const { connection, daemon } = setup({ callTimeoutMs: 1000 });
    const late = callProcedure(connection, HOSTNAME, undefined);
    await daemon.nextCalls(1);
    await jest.advanceTimersByTimeAsync(1000);
    await expect(late).rejects.toBeInstanceOf(CallTimeoutError);
    daemon.send(hostnameReply(41));
    await jest.advanceTimersByTimeAsync(0);
    expect(connection.closed).toBe(true);
  });

  it("give the procedures that copy or write whole volumes the long deadline", async () => {
    const { connection, daemon } = setup({ callTimeoutMs: 1000, longCallTimeoutMs: 5000 });
    const vol = { pool: "default", name: "clone.qcow2", key: "/images/clone.qcow2" };
    const clone = callProcedure(connection, RemoteProcedures.StorageVolCreateXMLFrom, {
      pool: { name: "default", uuid: Buffer.alloc(16) },
      xml: "<volume/>",
      clonevol: vol,
      flags: 0,
    });
    clone.catch(() => undefined);
    await daemon.nextCalls(1);
    await jest.advanceTimersByTimeAsync(4999);
    expect(await settled(clone)).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await expect(clone).rejects.toMatchObject({
      procedure: "StorageVolCreateXMLFrom",
      timeoutMs: 5000,
      option: "longCallTimeoutMs",
    });
  });

  it("name only procedures of the REMOTE table as long ones, and not DomainShutdown", () => {
    for (const name of LONG_PROCEDURES) expect(RemoteProcedures).toHaveProperty(name);
    const deadline = (name: keyof typeof RemoteProcedures) =>
      callDeadline(DEFAULT_DEADLINES, RemoteProcedures[name]).timeoutMs;
    expect(deadline("StoragePoolBuild")).toBe(3_600_000);
    expect(deadline("DomainShutdown")).toBe(300_000);
    expect(deadline("DomainLookupByName")).toBe(300_000);
  });

  it("take a call's own timeoutMs over the connection's, and 0 as no deadline at all", async () => {
    const { connection, daemon } = setup({ callTimeoutMs: 1000 });
    const quick = callProcedure(connection, HOSTNAME, undefined, { timeoutMs: 10 });
    const patient = callProcedure(connection, HOSTNAME, undefined, { timeoutMs: 0 });
    const [, second] = await daemon.nextCalls(2);
    await jest.advanceTimersByTimeAsync(10);
    await expect(quick).rejects.toMatchObject({ timeoutMs: 10, option: "timeoutMs" });
    await jest.advanceTimersByTimeAsync(24 * 3600_000);
    expect(await settled(patient)).toBe(false);
    daemon.send(hostnameReply(second!.header.serial));
    await expect(patient).resolves.toEqual({ hostname: "kvm1" });
  });

  it("give up on a call when its AbortSignal fires, rejecting with the signal's reason", async () => {
    const { connection, daemon } = setup();
    const controller = new AbortController();
    const call = callProcedure(connection, HOSTNAME, undefined, { signal: controller.signal });
    const [sent] = await daemon.nextCalls(1);
    const reason = new Error("the user pressed ^C");
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    daemon.send(hostnameReply(sent!.header.serial)); // dropped
    await jest.advanceTimersByTimeAsync(0);
    expect(connection.closed).toBe(false);
    await expect(
      callProcedure(connection, HOSTNAME, undefined, { signal: controller.signal }),
    ).rejects.toBe(reason);
    expect(daemon.received).toHaveLength(0); // a signal that already fired sends nothing
  });

  it("do not count the time the connection stopped reading for a slow stream reader", async () => {
    const { connection, daemon } = setup({ callTimeoutMs: 1000 });
    const call = callProcedure(connection, HOSTNAME, undefined);
    call.catch(() => undefined);
    await daemon.nextCalls(1);
    connection.pauseReading();
    await jest.advanceTimersByTimeAsync(5000);
    expect(await settled(call)).toBe(false);
    connection.resumeReading();
    await jest.advanceTimersByTimeAsync(1000);
    await expect(call).rejects.toBeInstanceOf(CallTimeoutError);
  });

  it("leave no timer behind once the reply came or the connection closed", async () => {
    const { connection, daemon, server } = setup();
    const answered = callProcedure(connection, HOSTNAME, undefined);
    const [call] = await daemon.nextCalls(1);
    daemon.send(hostnameReply(call!.header.serial));
    await answered;
    expect(jest.getTimerCount()).toBe(0);
    const pending = callProcedure(connection, HOSTNAME, undefined);
    await daemon.nextCalls(1);
    expect(jest.getTimerCount()).toBe(1);
    server.end();
    await expect(pending).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(jest.getTimerCount()).toBe(0);
  });

  it.each([-1, 1.5, 2 ** 31, NaN])(
    "refuse a timeoutMs of %p before anything is sent",
    async (timeoutMs) => {
      const { connection, daemon } = setup();
      await expect(callProcedure(connection, HOSTNAME, undefined, { timeoutMs })).rejects.toThrow(
        RangeError,
      );
      expect(daemon.received).toHaveLength(0);
    },
  );
});

describe("Libvirt deadlines", () => {
  async function connect(ignore: number[], options = {}) {
    const [client, server] = duplexPair();
    const daemon = scriptedDaemon(server, { ignore });
    const lv = await Libvirt.connect("qemu:///system", { transport: client, ...options });
    return { lv, daemon };
  }

  it("apply callTimeoutMs from the connect options, and a method's own timeoutMs", async () => {
    const { lv } = await connect([HOSTNAME.number], { callTimeoutMs: 3000 });
    const byOption = rejection(lv.ConnectGetHostname());
    const byCall = rejection(lv.ConnectGetHostname({ timeoutMs: 500 }));
    await jest.advanceTimersByTimeAsync(500);
    await expect(byCall).resolves.toMatchObject({
      procedure: "ConnectGetHostname",
      timeoutMs: 500,
    });
    await jest.advanceTimersByTimeAsync(2500);
    await expect(byOption).resolves.toMatchObject({ timeoutMs: 3000, option: "callTimeoutMs" });
    expect(lv.closed).toBe(false);
    await lv.close();
  });

  it("take the per-call options after the args of procedures that have args", async () => {
    const lookup = RemoteProcedures.DomainLookupByName.number;
    const { lv } = await connect([lookup]);
    const call = rejection(lv.DomainLookupByName({ name: "vm1" }, { timeoutMs: 100 }));
    await jest.advanceTimersByTimeAsync(100);
    await expect(call).resolves.toMatchObject({ procedure: "DomainLookupByName", timeoutMs: 100 });
    await lv.close();
  });

  it("wait only a few seconds for the answer to CONNECT_CLOSE", async () => {
    const CLOSE = RemoteProcedures.ConnectClose.number;
    const { lv, daemon } = await connect([CLOSE], { keepalive: false });
    const closing = lv.close();
    await jest.advanceTimersByTimeAsync(4999);
    expect(lv.closed).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await closing;
    expect(lv.closed).toBe(true);
    expect(daemon.received.at(-1)!.header.procedure).toBe(CLOSE);
  });

  it("refuse a deadline out of range before dialing", async () => {
    await expect(Libvirt.connect("qemu:///system", { callTimeoutMs: -5 })).rejects.toThrow(
      /callTimeoutMs must be a whole number of milliseconds/,
    );
  });
});
