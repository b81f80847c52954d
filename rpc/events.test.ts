import { ProtocolError, isNoSupport } from "./errors";
import { LibvirtEvents } from "./events";
import { MessageType } from "./protocol/header";
import { Packet } from "./protocol/packet";
import {
  EventSources,
  RemoteEventMessages,
  RemoteEventProcedures,
  eventMessagesByProcedure,
} from "./protocol/remote/events";
import { RemoteProcedures } from "./protocol/remote";
import { decode, encode } from "./xdr";
import { fakeConnection, FakeDaemon } from "../test/support/fake-daemon";
import { hex, packet } from "../test/support/packets";

const uuid = Buffer.from("6695eb01f6a44c7c9f1a1f8c3b2d9e55", "hex");
const vm1 = { name: "vm1", uuid, id: -1 };
const net1 = { name: "net1", uuid };

function setup(eventCallbacks = true) {
  const { connection, daemon, server } = fakeConnection();
  const events = new LibvirtEvents(connection, { eventCallbacks });
  return { connection, daemon, server, events };
}

/** Answers the registration call `call` with `callbackID`. */
function answerRegistration(daemon: FakeDaemon, call: Packet, callbackID: number): void {
  const { procedure, serial } = call.header;
  daemon.send(
    packet(
      { procedure, serial },
      encode(RemoteEventProcedures.ConnectDomainEventCallbackRegisterAny.ret, { callbackID }),
    ),
  );
}

/** Answers the next registration call with `callbackID` and returns the call. */
async function acceptRegistration(daemon: FakeDaemon, callbackID: number): Promise<Packet> {
  const [call] = await daemon.nextCalls(1);
  answerRegistration(daemon, call!, callbackID);
  return call!;
}

function lifecycleEvent(callbackID: number, event: number, detail: number): Buffer {
  const payload = encode(RemoteEventMessages.DomainLifecycle.payload, {
    callbackID,
    msg: { dom: vm1, event, detail },
  });
  return packet({ type: MessageType.MESSAGE, procedure: 318, serial: 1 }, payload);
}

/** Collects what a handler receives; `next(n)` waits until n events arrived. */
function collector<T>() {
  const seen: T[] = [];
  let wake: (() => void) | undefined;
  return {
    seen,
    handler: (event: T) => {
      seen.push(event);
      wake?.();
    },
    async next(count: number): Promise<T[]> {
      while (seen.length < count) await new Promise<void>((resolve) => (wake = resolve));
      return seen;
    },
  };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("the event table", () => {
  it("routes every event procedure to exactly one entry", () => {
    const entries = Object.values(RemoteEventMessages);
    expect(eventMessagesByProcedure.size).toBe(entries.length);
    for (const entry of entries) expect(eventMessagesByProcedure.get(entry.procedure)).toBe(entry);
  });

  it("does not redeclare procedures of the main procedure table", () => {
    const main = new Set(Object.values(RemoteProcedures).map((p) => p.number));
    for (const p of Object.values(RemoteEventProcedures)) expect(main.has(p.number)).toBe(false);
    for (const m of eventMessagesByProcedure.keys()) expect(main.has(m)).toBe(false);
  });

  it("decodes remote_domain_event_callback_lifecycle_msg field by field", () => {
    const payload = hex(`
      00000007                           // callbackID 7
      00000003 766d3100                  // dom.name "vm1" + 1 pad byte
      6695eb01 f6a44c7c 9f1a1f8c 3b2d9e55 // dom.uuid
      ffffffff                           // dom.id -1 (not running)
      00000005                           // event 5 STOPPED
      00000001                           // detail 1 DESTROYED
    `);
    const message = RemoteEventMessages.DomainLifecycle;
    expect(message.present(decode(message.payload, payload))).toEqual({
      dom: vm1,
      event: "STOPPED",
      detail: "DESTROYED",
      eventCode: 5,
      detailCode: 1,
    });
  });

  it("names values newer than the table UNKNOWN and keeps their numbers", () => {
    const { present } = RemoteEventMessages.DomainLifecycle;
    expect(present({ callbackID: 1, msg: { dom: vm1, event: 42, detail: 0 } })).toMatchObject({
      event: "UNKNOWN",
      detail: "UNKNOWN",
      eventCode: 42,
    });
    expect(
      RemoteEventMessages.StoragePoolLifecycle.present({
        callbackID: 1,
        pool: net1,
        event: 4,
        detail: 0,
      }),
    ).toEqual({ pool: net1, event: "CREATED", eventCode: 4, detail: 0 });
  });

  it("flattens the newer layouts and drops the callbackID", () => {
    expect(
      RemoteEventMessages.DomainAgentLifecycle.present({
        callbackID: 2,
        dom: vm1,
        state: 1,
        reason: 2,
      }),
    ).toEqual({ dom: vm1, state: "CONNECTED", reason: "CHANNEL", stateCode: 1, reasonCode: 2 });
    expect(
      RemoteEventMessages.DomainDeviceAdded.present({ callbackID: 2, dom: vm1, devAlias: "net0" }),
    ).toEqual({ dom: vm1, devAlias: "net0" });
    expect(
      RemoteEventMessages.DomainPMSuspend.present({ callbackID: 2, reason: 0, msg: { dom: vm1 } }),
    ).toEqual({ dom: vm1, reason: 0 });
  });
});

describe("LibvirtEvents", () => {
  it("registers with the callback procedure and delivers typed events", async () => {
    const { daemon, events } = setup();
    const received = collector<unknown>();
    const subscribing = events.onDomainLifecycle(received.handler);
    const call = await acceptRegistration(daemon, 3);
    expect(call.header).toMatchObject({ type: MessageType.CALL, procedure: 316 });
    expect(
      decode(RemoteEventProcedures.ConnectDomainEventCallbackRegisterAny.args, call.payload),
    ).toEqual({
      eventID: 0,
      dom: null,
    });
    const subscription = await subscribing;
    expect(subscription).toMatchObject({ event: "DomainLifecycle", callbackID: 3, active: true });
    daemon.send(lifecycleEvent(3, 2, 0));
    daemon.send(lifecycleEvent(3, 5, 1));
    await expect(received.next(2)).resolves.toEqual([
      { dom: vm1, event: "STARTED", detail: "BOOTED", eventCode: 2, detailCode: 0 },
      { dom: vm1, event: "STOPPED", detail: "DESTROYED", eventCode: 5, detailCode: 1 },
    ]);
  });

  it("narrows a registration to one object", async () => {
    const { daemon, events } = setup();
    const subscribing = events.onNetworkLifecycle(() => undefined, { net: net1 });
    const call = await acceptRegistration(daemon, 0);
    expect(call.header.procedure).toBe(313);
    expect(decode(RemoteEventProcedures.ConnectNetworkEventRegisterAny.args, call.payload)).toEqual(
      {
        eventID: 0,
        net: net1,
      },
    );
    await subscribing;
  });

  it("keeps several registrations for the same event apart by callbackID", async () => {
    const { daemon, events } = setup();
    const first = collector<{ eventCode: number }>();
    const second = collector<{ eventCode: number }>();
    const subscribing = [
      events.onDomainLifecycle(first.handler),
      events.onDomainLifecycle(second.handler),
    ];
    const [a, b] = await daemon.nextCalls(2);
    answerRegistration(daemon, a!, 10);
    answerRegistration(daemon, b!, 11);
    await Promise.all(subscribing);
    daemon.send(lifecycleEvent(11, 3, 0));
    daemon.send(lifecycleEvent(10, 4, 0));
    expect((await first.next(1)).map((e) => e.eventCode)).toEqual([4]);
    expect((await second.next(1)).map((e) => e.eventCode)).toEqual([3]);
  });

  it("does not confuse equal callbackIDs of different object kinds", async () => {
    const { daemon, events } = setup();
    const domains = collector<unknown>();
    const networks = collector<{ event: string }>();
    const domainSub = events.onDomainLifecycle(domains.handler);
    await acceptRegistration(daemon, 0);
    await domainSub;
    const networkSub = events.onNetworkLifecycle(networks.handler);
    await acceptRegistration(daemon, 0);
    await networkSub;
    const payload = encode(RemoteEventMessages.NetworkLifecycle.payload, {
      callbackID: 0,
      net: net1,
      event: 2,
      detail: 0,
    });
    daemon.send(packet({ type: MessageType.MESSAGE, procedure: 315, serial: 1 }, payload));
    expect(await networks.next(1)).toEqual([
      { net: net1, event: "STARTED", eventCode: 2, detail: 0 },
    ]);
    expect(domains.seen).toEqual([]);
  });

  it("delivers an event that arrives before the registration's reply", async () => {
    const { daemon, events } = setup();
    const received = collector<{ event: string }>();
    const subscribing = events.onDomainLifecycle(received.handler);
    const [call] = await daemon.nextCalls(1);
    daemon.send(lifecycleEvent(5, 0, 0));
    answerRegistration(daemon, call!, 5);
    await subscribing;
    expect((await received.next(1)).map((e) => e.event)).toEqual(["DEFINED"]);
  });

  it("stops delivery at once on unsubscribe and deregisters the callbackID", async () => {
    const { daemon, events } = setup();
    const received = collector<unknown>();
    const subscribing = events.onDomainLifecycle(received.handler);
    await acceptRegistration(daemon, 8);
    const subscription = await subscribing;
    const unsubscribing = subscription.unsubscribe();
    expect(subscription.active).toBe(false);
    daemon.send(lifecycleEvent(8, 2, 0));
    const [call] = await daemon.nextCalls(1);
    expect(call!.header.procedure).toBe(317);
    expect(
      decode(RemoteEventProcedures.ConnectDomainEventCallbackDeregisterAny.args, call!.payload),
    ).toEqual({
      callbackID: 8,
    });
    daemon.send(packet({ procedure: 317, serial: call!.header.serial }));
    await unsubscribing;
    await subscription.unsubscribe(); // a second time: nothing sent
    await tick();
    expect(daemon.received).toHaveLength(0);
    expect(received.seen).toEqual([]);
    expect(events.size).toBe(0);
  });

  it("refuses domain events with a not-supported error on a server without event callbacks", async () => {
    const { daemon, events } = setup(false);
    const error = await events.onDomainLifecycle(() => undefined).catch((e: unknown) => e);
    expect(isNoSupport(error)).toBe(true);
    expect((error as Error).message).toMatch(/REMOTE_EVENT_CALLBACK/);
    expect(daemon.received).toHaveLength(0);
    expect(EventSources.network.needsEventCallbacks).toBe(false);
  });

  it("ignores events of procedures outside the table", async () => {
    const { connection, daemon } = setup();
    daemon.send(packet({ type: MessageType.MESSAGE, procedure: 107, serial: 1 }, Buffer.alloc(40)));
    await tick();
    expect(connection.closed).toBe(false);
  });

  it("closes the connection with a ProtocolError on a malformed event", async () => {
    const { connection, daemon, events } = setup();
    const subscribing = events.onDomainLifecycle(() => undefined);
    await acceptRegistration(daemon, 1);
    await subscribing;
    daemon.send(
      packet({ type: MessageType.MESSAGE, procedure: 318, serial: 1 }, hex("00000001 0000")),
    );
    await tick();
    expect(connection.closeReason).toBeInstanceOf(ProtocolError);
    expect(connection.closeReason!.message).toMatch(
      /malformed DomainLifecycle event \(procedure 318\)/,
    );
  });

  it("keeps delivering to other handlers when one throws, rethrowing its error asynchronously", async () => {
    const { daemon, events } = setup();
    const rethrown: (() => void)[] = [];
    const spy = jest
      .spyOn(globalThis, "queueMicrotask")
      .mockImplementation((fn) => void rethrown.push(fn));
    try {
      const received = collector<unknown>();
      const subscribing = [
        events.onDomainLifecycle(() => {
          throw new Error("handler bug");
        }),
        events.onDomainLifecycle(received.handler),
      ];
      const [a, b] = await daemon.nextCalls(2);
      answerRegistration(daemon, a!, 1);
      answerRegistration(daemon, b!, 2);
      await Promise.all(subscribing);
      daemon.send(lifecycleEvent(1, 2, 0));
      daemon.send(lifecycleEvent(2, 2, 0));
      await received.next(1);
      expect(rethrown).toHaveLength(1);
      expect(rethrown[0]).toThrow("handler bug");
    } finally {
      spy.mockRestore();
    }
  });

  it("ends every subscription when the connection closes", async () => {
    const { connection, daemon, events } = setup();
    const subscribing = events.onStoragePoolRefresh(() => undefined);
    const call = await acceptRegistration(daemon, 4);
    expect(call.header.procedure).toBe(368);
    expect(
      decode(RemoteEventProcedures.ConnectStoragePoolEventRegisterAny.args, call.payload).eventID,
    ).toBe(1);
    const subscription = await subscribing;
    connection.destroy();
    expect(subscription.active).toBe(false);
    await expect(subscription.unsubscribe()).resolves.toBeUndefined();
    expect(events.size).toBe(0);
  });

  it("has an on<Event> method for every entry of the table", () => {
    const { events } = setup();
    for (const name of Object.keys(RemoteEventMessages)) {
      expect(typeof (events as unknown as Record<string, unknown>)[`on${name}`]).toBe("function");
    }
  });
});
