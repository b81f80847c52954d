/**
 * Typed events from the test bed daemon: domain, network, storage pool and secret lifecycles
 * arrive in order as the objects are defined, started, stopped and removed; after unsubscribe the
 * daemon sends nothing more for the registration (checked on the raw packets of the connection).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { EventOf, Libvirt, RemoteProgram, parseLibvirtUri } from "../../rpc/internal";
import { MessageType } from "../../rpc/protocol/header";
import { PacketDecoder } from "../../rpc/protocol/packet";
import { dialUnix, systemSocketPath } from "../../rpc/transport/unix";
import { TEST_URI, dirPoolXml, uniqueName } from "../support/testbed";

const EVENT_TIMEOUT_MS = 30_000;

/** Collects the events a handler receives that concern one object (others test concurrently). */
function collector<T>(concerns: (event: T) => boolean = () => true) {
  const seen: T[] = [];
  const waiters = new Set<() => void>();
  return {
    seen,
    handler: (event: T) => {
      if (!concerns(event)) return;
      seen.push(event);
      for (const wake of waiters) wake();
    },
    /** Waits until `count` events arrived. */
    next(count: number): Promise<T[]> {
      return this.until(() => seen.length >= count, `${count} events`);
    },
    /** Waits until an event satisfying `last` arrived. */
    async until(last: (event: T) => boolean, what = "the last event"): Promise<T[]> {
      const deadline = Date.now() + EVENT_TIMEOUT_MS;
      while (!seen.some((event) => last(event))) {
        if (Date.now() > deadline) {
          throw new Error(`expected ${what}, got ${JSON.stringify(seen, bigints)}`);
        }
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(wake, 250);
          waiters.add(wake);
        });
      }
      return seen;
    },
  };
}

const bigints = (_: string, value: unknown) =>
  typeof value === "bigint" ? value.toString() : value;

/** The (procedure, callbackID) of every event MESSAGE the daemon sends on a socket. */
function tapEvents(socket: Duplex): { procedure: number; callbackID: number }[] {
  const seen: { procedure: number; callbackID: number }[] = [];
  const decoder = new PacketDecoder();
  socket.on("data", (chunk: Buffer) => {
    for (const { header, payload } of decoder.push(chunk)) {
      if (header.type !== MessageType.MESSAGE || header.program !== RemoteProgram.number) continue;
      seen.push({ procedure: header.procedure, callbackID: payload.readInt32BE(0) });
    }
  });
  return seen;
}

const lifecycle = (e: { event: string; detail: unknown }) => `${e.event}/${String(e.detail)}`;

/**
 * What QEMU domains report besides the four transitions the test makes: the CPUs starting
 * (RESUMED/UNPAUSED, sent while the start is in progress) and QEMU noticing the SIGTERM of a
 * destroy (SHUTDOWN/HOST). libvirt 9.0 sends both; the test does not depend on them.
 */
const INCIDENTAL = new Set(["RESUMED/UNPAUSED", "SHUTDOWN/HOST"]);
const transitions = (events: { event: string; detail: unknown }[]) =>
  events.map(lifecycle).filter((e) => !INCIDENTAL.has(e));

describe("events from the test bed daemon", () => {
  let lv: Libvirt;
  let wire: { procedure: number; callbackID: number }[];
  let scratch: string;

  beforeAll(async () => {
    const uri = parseLibvirtUri(TEST_URI);
    const socket = await dialUnix(uri.params.socket ?? systemSocketPath(uri.driver));
    wire = tapEvents(socket);
    lv = await Libvirt.connect(TEST_URI, { transport: socket });
    scratch = await mkdtemp(join(tmpdir(), "vwtest-events-"));
  });

  afterAll(async () => {
    await lv?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it("uses the callback-based registrations of this daemon", () => {
    expect(lv.features.eventCallbacks).toBe(true);
  });

  describe("domain lifecycle", () => {
    const name = uniqueName("events");
    const xml = `<domain type='qemu'><name>${name}</name><memory unit='MiB'>64</memory>
      <vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os><devices/></domain>`;

    afterAll(async () => {
      const found = await lv.DomainLookupByName({ name }).catch(() => null);
      if (!found) return;
      await lv.DomainDestroy(found).catch(() => undefined);
      await lv.DomainUndefine(found).catch(() => undefined);
    });

    it("arrives in order, for every domain and for one, and stops after unsubscribe", async () => {
      type Lifecycle = EventOf<"DomainLifecycle">;
      const all = collector<Lifecycle>((e) => e.dom.name === name);
      const subAll = await lv.events.onDomainLifecycle(all.handler);

      const { dom } = await lv.DomainDefineXML({ xml });
      const one = collector<Lifecycle>();
      const subOne = await lv.events.onDomainLifecycle(one.handler, { dom });
      expect(subOne.callbackID).not.toBe(subAll.callbackID);

      await lv.DomainCreate({ dom });
      const running = await lv.DomainLookupByName({ name });
      await lv.DomainDestroy({ dom: running.dom });
      await lv.DomainUndefine({ dom });

      const isRemoved = (e: Lifecycle) => e.event === "UNDEFINED";
      const events = await all.until(isRemoved);
      console.log(`domain lifecycle events: ${events.map(lifecycle).join(", ")}`);
      expect(transitions(events)).toEqual([
        "DEFINED/ADDED",
        "STARTED/BOOTED",
        "STOPPED/DESTROYED",
        "UNDEFINED/REMOVED",
      ]);
      expect(events[0]).toEqual({
        dom: { name, uuid: dom.uuid, id: -1 },
        event: "DEFINED",
        detail: "ADDED",
        eventCode: 0,
        detailCode: 0,
      });
      expect(events.find((e) => e.event === "STARTED")!.dom.id).toBe(running.dom.id);
      const narrowed = await one.until(isRemoved);
      expect(narrowed.every((e) => e.dom.uuid.equals(dom.uuid))).toBe(true);
      expect(transitions(narrowed)).toEqual([
        "STARTED/BOOTED",
        "STOPPED/DESTROYED",
        "UNDEFINED/REMOVED",
      ]);

      // After unsubscribe the daemon sends nothing more for these callbackIDs; a witness
      // registration shows the events did happen.
      await subAll.unsubscribe();
      await subOne.unsubscribe();
      const witness = collector<Lifecycle>((e) => e.dom.name === name);
      const subWitness = await lv.events.onDomainLifecycle(witness.handler);
      const sentBefore = wire.length;
      const again = await lv.DomainDefineXML({ xml });
      await lv.DomainUndefine({ dom: again.dom });
      expect((await witness.until(isRemoved)).map(lifecycle)).toEqual([
        "DEFINED/ADDED",
        "UNDEFINED/REMOVED",
      ]);
      const stale = wire
        .slice(sentBefore)
        .filter(
          (m) =>
            m.procedure === 318 && [subAll.callbackID, subOne.callbackID].includes(m.callbackID),
        );
      expect(stale).toEqual([]);
      expect(all.seen).toEqual(events);
      expect(one.seen).toEqual(narrowed);
      await subWitness.unsubscribe();
    });
  });

  describe("network lifecycle", () => {
    const name = uniqueName("evnet");

    afterAll(async () => {
      const found = await lv.NetworkLookupByName({ name }).catch(() => null);
      if (!found) return;
      await lv.NetworkDestroy(found).catch(() => undefined);
      await lv.NetworkUndefine(found).catch(() => undefined);
    });

    it("arrives in order for an isolated network", async () => {
      const seen = collector<EventOf<"NetworkLifecycle">>((e) => e.net.name === name);
      const subscription = await lv.events.onNetworkLifecycle(seen.handler);
      const { net } = await lv.NetworkDefineXML({ xml: `<network><name>${name}</name></network>` });
      await lv.NetworkCreate({ net });
      await lv.NetworkDestroy({ net });
      await lv.NetworkUndefine({ net });
      const events = await seen.next(4);
      expect(events.map((e) => e.event)).toEqual(["DEFINED", "STARTED", "STOPPED", "UNDEFINED"]);
      expect(events[0]).toEqual({ net, event: "DEFINED", eventCode: 0, detail: 0 });
      await subscription.unsubscribe();
    });
  });

  describe("storage pool lifecycle and refresh", () => {
    const name = uniqueName("evpool");

    afterAll(async () => {
      const found = await lv.StoragePoolLookupByName({ name }).catch(() => null);
      if (!found) return;
      await lv.StoragePoolDestroy(found).catch(() => undefined);
      await lv.StoragePoolUndefine(found).catch(() => undefined);
    });

    it("arrives in order for a dir pool in a temp dir", async () => {
      const seen = collector<EventOf<"StoragePoolLifecycle">>((e) => e.pool.name === name);
      const refreshed = collector<EventOf<"StoragePoolRefresh">>((e) => e.pool.name === name);
      const subscriptions = [
        await lv.events.onStoragePoolLifecycle(seen.handler),
        await lv.events.onStoragePoolRefresh(refreshed.handler),
      ];
      const target = join(scratch, "pool");
      const xml = dirPoolXml(name, target);
      const { pool } = await lv.StoragePoolDefineXML({ xml, flags: 0 });
      await lv.StoragePoolBuild({ pool, flags: 0 });
      await lv.StoragePoolCreate({ pool, flags: 0 });
      await lv.StoragePoolRefresh({ pool, flags: 0 });
      await lv.StoragePoolDestroy({ pool });
      await lv.StoragePoolDelete({ pool, flags: 0 });
      await lv.StoragePoolUndefine({ pool });
      const events = await seen.next(6);
      expect(events.map((e) => e.event)).toEqual([
        "DEFINED",
        "CREATED",
        "STARTED",
        "STOPPED",
        "DELETED",
        "UNDEFINED",
      ]);
      expect(await refreshed.next(1)).toEqual([{ pool }]);
      for (const subscription of subscriptions) await subscription.unsubscribe();
    });
  });

  describe("secret lifecycle", () => {
    const usage = uniqueName("evsecret");

    afterAll(async () => {
      const found = await lv
        .SecretLookupByUsage({ usageType: 2, usageID: usage })
        .catch(() => null);
      if (found) await lv.SecretUndefine(found).catch(() => undefined);
    });

    it("reports definition, a new value and removal", async () => {
      const lifecycleSeen = collector<EventOf<"SecretLifecycle">>(
        (e) => e.secret.usageID === usage,
      );
      const values = collector<EventOf<"SecretValueChanged">>((e) => e.secret.usageID === usage);
      const subscriptions = [
        await lv.events.onSecretLifecycle(lifecycleSeen.handler),
        await lv.events.onSecretValueChanged(values.handler),
      ];
      const { secret } = await lv.SecretDefineXML({
        xml: `<secret ephemeral='yes' private='yes'><usage type='ceph'><name>${usage}</name></usage></secret>`,
        flags: 0,
      });
      await lv.SecretSetValue({ secret, value: Buffer.from("not a real key"), flags: 0 });
      await lv.SecretUndefine({ secret });
      expect((await lifecycleSeen.next(2)).map((e) => e.event)).toEqual(["DEFINED", "UNDEFINED"]);
      expect(await values.next(1)).toEqual([{ secret }]);
      for (const subscription of subscriptions) await subscription.unsubscribe();
    });
  });
});
