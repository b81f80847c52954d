/**
 * Typed events: one `on<Event>` method per entry of the event table
 * (rpc/protocol/remote/events.ts), installed from the table as Libvirt's procedure methods are.
 *
 *   const sub = await lv.events.onDomainLifecycle((e) => console.log(e.dom.name, e.event, e.detail));
 *   // { dom, event: "STOPPED", detail: "DESTROYED", eventCode: 5, detailCode: 1 }
 *   await sub.unsubscribe();
 *
 * Each subscription is one server-side registration with its own callbackID, so several handlers
 * for the same event coexist, except two narrowed to the same object: libvirt (9.0 and 11.3 alike)
 * refuses the second with VIR_ERR_INVALID_ARG, "event callback already tracked". Incoming MESSAGE
 * packets are routed by procedure number through the table, then by (object kind, callbackID) to
 * the subscription.
 *
 * A handler that throws does not disturb the connection or other handlers; its error is rethrown
 * asynchronously (an uncaught exception, as with any throwing event listener).
 */
import { ConnectionClosedError, LibvirtError, ProtocolError } from "./errors";
import { callProcedure } from "./client/call";
import type { Connection } from "./client/connection";
import type { ServerFeatures } from "./client/open";
import { ErrorCode, ErrorDomain, ErrorLevel } from "./protocol/error-codes";
import type { Packet } from "./protocol/packet";
import type { Procedure } from "./protocol/program";
import { RemoteProgram } from "./protocol/remote/program";
import { decode } from "./xdr";
import {
  AnyEventMessage,
  EventFilter,
  EventName,
  EventOf,
  EventSourceName,
  EventSources,
  RemoteEventMessages,
  SourceOf,
  eventMessagesByProcedure,
} from "./protocol/remote/events";

export type EventHandler<K extends EventName> = (event: EventOf<K>) => void;

/** One `on<Event>(handler, filter?)` per event, e.g. `onDomainLifecycle(handler, { dom })`. */
export type EventApi = {
  [K in EventName as `on${K}`]: (
    handler: EventHandler<K>,
    filter?: EventFilter<SourceOf<K>>,
  ) => Promise<EventSubscription>;
};

export interface EventSubscription {
  /** The event's name in the table, e.g. `DomainLifecycle`. */
  readonly event: EventName;
  /** The id the server gave this registration. */
  readonly callbackID: number;
  /** False once unsubscribed or once the connection closed. */
  readonly active: boolean;
  /** Stops delivery at once, then deregisters on the server. Safe to call more than once. */
  unsubscribe(): Promise<void>;
}

type Raw = { callbackID: number };

/** Events that arrived before their registration's reply, kept until the reply is handled. */
const EARLY_EVENTS_MAX = 1024;

class Subscription implements EventSubscription {
  active = true;

  constructor(
    private readonly registry: LibvirtEvents,
    readonly message: AnyEventMessage,
    readonly callbackID: number,
    private readonly handler: (event: unknown) => void,
  ) {}

  get event(): EventName {
    return this.message.name as EventName;
  }

  deliver(raw: Raw): void {
    if (!this.active) return;
    try {
      this.handler(this.message.present(raw));
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  unsubscribe(): Promise<void> {
    if (!this.active) return Promise.resolve();
    this.active = false;
    return this.registry.deregister(this);
  }
}

// The on<Event> methods are installed on the prototype below, from the table.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type
export interface LibvirtEvents extends EventApi {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class LibvirtEvents {
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly registering = new Map<EventSourceName, number>();
  private early: { message: AnyEventMessage; raw: Raw }[] = [];

  constructor(
    private readonly connection: Connection,
    private readonly features: Pick<ServerFeatures, "eventCallbacks">,
  ) {
    connection.onMessage(RemoteProgram, (packet) => this.dispatch(packet));
    connection.once("closed", () => {
      for (const subscription of this.subscriptions.values()) subscription.active = false;
      this.subscriptions.clear();
      this.early = [];
    });
  }

  /** Number of active subscriptions. */
  get size(): number {
    return this.subscriptions.size;
  }

  /**
   * Registers `handler` for event `name` (optionally narrowed to one object, e.g. `{ dom }`).
   * Resolves once the server confirmed the registration; events are delivered from then on.
   */
  async subscribe<K extends EventName>(
    name: K,
    handler: EventHandler<K>,
    filter: EventFilter<SourceOf<K>> = {},
  ): Promise<EventSubscription> {
    const message = RemoteEventMessages[name] as AnyEventMessage;
    const source = EventSources[message.source];
    if (source.needsEventCallbacks && !this.features.eventCallbacks) throw notSupported(name);
    const register = source.register as Procedure<unknown, { callbackID: number }>;
    const only = (filter as Record<string, unknown>)[source.filter] ?? null;
    this.registering.set(message.source, (this.registering.get(message.source) ?? 0) + 1);
    try {
      const { callbackID } = await callProcedure(this.connection, register, {
        eventID: message.eventID,
        [source.filter]: only,
      });
      const subscription = new Subscription(
        this,
        message,
        callbackID,
        handler as (event: unknown) => void,
      );
      this.subscriptions.set(key(message.source, callbackID), subscription);
      this.deliverEarly(subscription);
      return subscription;
    } finally {
      const left = (this.registering.get(message.source) ?? 1) - 1;
      this.registering.set(message.source, left);
      if (left === 0) this.early = this.early.filter((e) => e.message.source !== message.source);
    }
  }

  /** @internal Called by EventSubscription.unsubscribe. */
  async deregister(subscription: Subscription): Promise<void> {
    const { message, callbackID } = subscription;
    this.subscriptions.delete(key(message.source, callbackID));
    if (this.connection.closed) return;
    const deregister = EventSources[message.source].deregister as Procedure<
      { callbackID: number },
      void
    >;
    try {
      await callProcedure(this.connection, deregister, { callbackID });
    } catch (error) {
      // A closed connection has no registrations left to remove.
      if (!(error instanceof ConnectionClosedError)) throw error;
    }
  }

  private dispatch(packet: Packet): void {
    const message = eventMessagesByProcedure.get(packet.header.procedure);
    // Events of procedures outside the table cannot have been registered for (legacy, newer).
    if (!message) return;
    const raw = decodeEvent(message, packet.payload);
    const subscription = this.subscriptions.get(key(message.source, raw.callbackID));
    if (subscription) {
      if (subscription.message === message) subscription.deliver(raw);
    } else if ((this.registering.get(message.source) ?? 0) > 0) {
      // The server may send an event for a new callbackID before the registration's reply.
      if (this.early.length < EARLY_EVENTS_MAX) this.early.push({ message, raw });
    }
  }

  private deliverEarly(subscription: Subscription): void {
    const mine = this.early.filter(
      (e) => e.message === subscription.message && e.raw.callbackID === subscription.callbackID,
    );
    if (mine.length === 0) return;
    this.early = this.early.filter((e) => !mine.includes(e));
    for (const { raw } of mine) subscription.deliver(raw);
  }
}

for (const name of Object.keys(RemoteEventMessages) as EventName[]) {
  Object.defineProperty(LibvirtEvents.prototype, `on${name}`, {
    value: function (this: LibvirtEvents, handler: EventHandler<EventName>, filter?: object) {
      return this.subscribe(name, handler, filter);
    },
    writable: false,
    enumerable: false,
  });
}

function key(source: EventSourceName, callbackID: number): string {
  return `${source}:${callbackID}`;
}

function decodeEvent(message: AnyEventMessage, payload: Buffer): Raw {
  try {
    return decode(message.payload, payload, `${message.name} event`) as Raw;
  } catch (error) {
    throw new ProtocolError(
      `malformed ${message.name} event (procedure ${message.procedure}): ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** What libvirt's own client reports for an API the server lacks: VIR_ERR_NO_SUPPORT. */
function notSupported(name: EventName): LibvirtError {
  return new LibvirtError(
    {
      code: ErrorCode.NO_SUPPORT,
      domain: ErrorDomain.REMOTE,
      level: ErrorLevel.ERROR,
      message:
        `this libvirt daemon does not support callback-based domain event registration ` +
        `(feature REMOTE_EVENT_CALLBACK), needed for ${name} events; upgrade libvirt`,
      str1: null,
      str2: null,
      str3: null,
      int1: 0,
      int2: 0,
    },
    `on${name}`,
  );
}
