/**
 * Events of the REMOTE program (remote_protocol.x; enums from include/libvirt/libvirt-*.h), each
 * declared once: the procedures that register and deregister callbacks, and for every event the
 * MESSAGE procedure it arrives on, the eventID it is registered with, its `*_msg` payload and how
 * it is shown to callers (enum values get their libvirt names beside their numbers). Incoming
 * MESSAGE packets are routed by looking their procedure up in this table.
 *
 * Only the "callback" variants are declared (every message carries the callbackID the server gave
 * the registration); the legacy domain procedures (105–107, 167–173, …) of servers that answer 0
 * to REMOTE_EVENT_CALLBACK are not.
 */
import { Codec, array, hyper, int, optional, struct, uhyper, uint, xdrVoid } from "../../xdr";
import { ArgsOf, defineProcedures } from "../program";
import { RemoteProgram } from "./program";
import {
  RemoteDomain,
  RemoteNetwork,
  RemoteNonnullDomain,
  RemoteNonnullNetwork,
  RemoteNonnullNodeDevice,
  RemoteNonnullSecret,
  RemoteNonnullStoragePool,
  RemoteNonnullString,
  RemoteSecret,
  RemoteStoragePool,
  RemoteString,
  RemoteTypedParam,
} from "./types";

const REMOTE_DOMAIN_EVENT_TUNABLE_MAX = 2048;
const REMOTE_DOMAIN_JOB_STATS_MAX = 64;
const REMOTE_DOMAIN_EVENT_GRAPHICS_IDENTITY_MAX = 20;

const CallbackID = struct({ callbackID: int });

export const RemoteEventProcedures = defineProcedures(RemoteProgram, {
  /** REMOTE_PROC_CONNECT_NETWORK_EVENT_REGISTER_ANY (313); `net` null = every network. */
  ConnectNetworkEventRegisterAny: [313, struct({ eventID: int, net: RemoteNetwork }), CallbackID],
  /** REMOTE_PROC_CONNECT_NETWORK_EVENT_DEREGISTER_ANY (314) */
  ConnectNetworkEventDeregisterAny: [314, CallbackID, xdrVoid],
  /** REMOTE_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY (316); `dom` null = every domain. */
  ConnectDomainEventCallbackRegisterAny: [
    316,
    struct({ eventID: int, dom: RemoteDomain }),
    CallbackID,
  ],
  /** REMOTE_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY (317) */
  ConnectDomainEventCallbackDeregisterAny: [317, CallbackID, xdrVoid],
  /** REMOTE_PROC_CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY (368); `pool` null = every pool. */
  ConnectStoragePoolEventRegisterAny: [
    368,
    struct({ eventID: int, pool: RemoteStoragePool }),
    CallbackID,
  ],
  /** REMOTE_PROC_CONNECT_STORAGE_POOL_EVENT_DEREGISTER_ANY (369) */
  ConnectStoragePoolEventDeregisterAny: [369, CallbackID, xdrVoid],
  /** REMOTE_PROC_CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY (374); `dev` null = every device. */
  ConnectNodeDeviceEventRegisterAny: [
    374,
    struct({ eventID: int, dev: optional(RemoteNonnullNodeDevice) }),
    CallbackID,
  ],
  /** REMOTE_PROC_CONNECT_NODE_DEVICE_EVENT_DEREGISTER_ANY (375) */
  ConnectNodeDeviceEventDeregisterAny: [375, CallbackID, xdrVoid],
  /** REMOTE_PROC_CONNECT_SECRET_EVENT_REGISTER_ANY (380); `secret` null = every secret. */
  ConnectSecretEventRegisterAny: [380, struct({ eventID: int, secret: RemoteSecret }), CallbackID],
  /** REMOTE_PROC_CONNECT_SECRET_EVENT_DEREGISTER_ANY (381) */
  ConnectSecretEventDeregisterAny: [381, CallbackID, xdrVoid],
});
export type RemoteEventProcedures = typeof RemoteEventProcedures;

const P = RemoteEventProcedures;

/**
 * The kinds of object events are about: the procedures that (de)register callbacks for them and
 * the register argument that narrows a registration to one object. Domain events need the server's
 * REMOTE_EVENT_CALLBACK feature (older servers only have the legacy procedures).
 */
export const EventSources = {
  domain: {
    register: P.ConnectDomainEventCallbackRegisterAny,
    deregister: P.ConnectDomainEventCallbackDeregisterAny,
    filter: "dom",
    needsEventCallbacks: true,
  },
  network: {
    register: P.ConnectNetworkEventRegisterAny,
    deregister: P.ConnectNetworkEventDeregisterAny,
    filter: "net",
    needsEventCallbacks: false,
  },
  storagePool: {
    register: P.ConnectStoragePoolEventRegisterAny,
    deregister: P.ConnectStoragePoolEventDeregisterAny,
    filter: "pool",
    needsEventCallbacks: false,
  },
  nodeDevice: {
    register: P.ConnectNodeDeviceEventRegisterAny,
    deregister: P.ConnectNodeDeviceEventDeregisterAny,
    filter: "dev",
    needsEventCallbacks: false,
  },
  secret: {
    register: P.ConnectSecretEventRegisterAny,
    deregister: P.ConnectSecretEventDeregisterAny,
    filter: "secret",
    needsEventCallbacks: false,
  },
} as const;
export type EventSources = typeof EventSources;
export type EventSourceName = keyof EventSources;
/** The object a registration is narrowed to, e.g. `{ dom }`; none = every object. */
export type EventFilter<S extends EventSourceName> = Partial<
  Omit<ArgsOf<EventSources[S]["register"]>, "eventID">
>;

// --- enum names: index = value -------------------------------------------------------------------

/** `virDomainEventType` and, per type, its `virDomainEvent*DetailType`. */
export const DOMAIN_EVENT_TYPES = [
  "DEFINED",
  "UNDEFINED",
  "STARTED",
  "SUSPENDED",
  "RESUMED",
  "STOPPED",
  "SHUTDOWN",
  "PMSUSPENDED",
  "CRASHED",
] as const;
export const DOMAIN_EVENT_DETAILS = {
  DEFINED: ["ADDED", "UPDATED", "RENAMED", "FROM_SNAPSHOT"],
  UNDEFINED: ["REMOVED", "RENAMED"],
  STARTED: ["BOOTED", "MIGRATED", "RESTORED", "FROM_SNAPSHOT", "WAKEUP"],
  SUSPENDED: [
    "PAUSED",
    "MIGRATED",
    "IOERROR",
    "WATCHDOG",
    "RESTORED",
    "FROM_SNAPSHOT",
    "API_ERROR",
    "POSTCOPY",
    "POSTCOPY_FAILED",
  ],
  RESUMED: ["UNPAUSED", "MIGRATED", "FROM_SNAPSHOT", "POSTCOPY", "POSTCOPY_FAILED"],
  STOPPED: ["SHUTDOWN", "DESTROYED", "CRASHED", "MIGRATED", "SAVED", "FAILED", "FROM_SNAPSHOT"],
  SHUTDOWN: ["FINISHED", "GUEST", "HOST"],
  PMSUSPENDED: ["MEMORY", "DISK"],
  CRASHED: ["PANICKED", "CRASHLOADED"],
} as const;
/** `virNetworkEventLifecycleType` */
export const NETWORK_EVENT_TYPES = ["DEFINED", "UNDEFINED", "STARTED", "STOPPED"] as const;
/** `virStoragePoolEventLifecycleType` */
export const STORAGE_POOL_EVENT_TYPES = [
  "DEFINED",
  "UNDEFINED",
  "STARTED",
  "STOPPED",
  "CREATED",
  "DELETED",
] as const;
/** `virNodeDeviceEventLifecycleType` */
export const NODE_DEVICE_EVENT_TYPES = ["CREATED", "DELETED", "DEFINED", "UNDEFINED"] as const;
/** `virSecretEventLifecycleType` */
export const SECRET_EVENT_TYPES = ["DEFINED", "UNDEFINED"] as const;
/** `virConnectDomainEventAgentLifecycleState` (starts at 1) and `…Reason`. */
export const AGENT_LIFECYCLE_STATES = [undefined, "CONNECTED", "DISCONNECTED"] as const;
export const AGENT_LIFECYCLE_REASONS = ["UNKNOWN", "DOMAIN_STARTED", "CHANNEL"] as const;
/** `virDomainEventWatchdogAction` */
export const WATCHDOG_ACTIONS = [
  "NONE",
  "PAUSE",
  "RESET",
  "POWEROFF",
  "SHUTDOWN",
  "DEBUG",
  "INJECTNMI",
] as const;
/** `virDomainEventIOErrorAction` */
export const IO_ERROR_ACTIONS = ["NONE", "PAUSE", "REPORT"] as const;
/** `virDomainBlockJobType` and `virConnectDomainEventBlockJobStatus` */
export const BLOCK_JOB_TYPES = [
  "UNKNOWN",
  "PULL",
  "COPY",
  "COMMIT",
  "ACTIVE_COMMIT",
  "BACKUP",
] as const;
export const BLOCK_JOB_STATUSES = ["COMPLETED", "FAILED", "CANCELED", "READY"] as const;
/** `virConnectDomainEventDiskChangeReason`, `virDomainEventTrayChangeReason`, `virDomainMetadataType` */
export const DISK_CHANGE_REASONS = ["MISSING_ON_START", "DROP_MISSING_ON_START"] as const;
export const TRAY_CHANGE_REASONS = ["OPEN", "CLOSE"] as const;
export const METADATA_TYPES = ["DESCRIPTION", "TITLE", "ELEMENT"] as const;

/** A value's libvirt name, or "UNKNOWN" for a value newer than this table. */
export function nameOf<N extends readonly (string | undefined)[]>(
  names: N,
  value: number,
): Exclude<N[number], undefined> | "UNKNOWN" {
  return (names[value] as Exclude<N[number], undefined> | undefined) ?? "UNKNOWN";
}

type DomainEventType = (typeof DOMAIN_EVENT_TYPES)[number];
type DomainEventDetail = (typeof DOMAIN_EVENT_DETAILS)[DomainEventType][number];

function domainLifecycle(event: number, detail: number) {
  const type = nameOf(DOMAIN_EVENT_TYPES, event);
  const details: readonly DomainEventDetail[] =
    type === "UNKNOWN" ? [] : DOMAIN_EVENT_DETAILS[type];
  return { event: type, detail: nameOf(details, detail), eventCode: event, detailCode: detail };
}

function lifecycle<N extends readonly string[]>(names: N, event: number, detail: number) {
  return { event: nameOf(names, event), eventCode: event, detail };
}

// --- the event table -----------------------------------------------------------------------------

export interface EventMessage<S extends EventSourceName, Raw extends { callbackID: number }, E> {
  /** The event's name in the typed API (`DomainLifecycle` → `events.onDomainLifecycle`). */
  readonly name: string;
  /** The MESSAGE procedure the server sends it on. */
  readonly procedure: number;
  readonly source: S;
  /** The eventID it is registered with (`VIR_DOMAIN_EVENT_ID_*`, …). */
  readonly eventID: number;
  readonly payload: Codec<Raw>;
  /** The payload as callers see it: flat, without callbackID, enums named. */
  present(raw: Raw): E;
}

type Spec<S extends EventSourceName, Raw extends { callbackID: number }, E> = Omit<
  EventMessage<S, Raw, E>,
  "name"
>;

/** `[procedure, source, eventID, payload, present]` */
function event<S extends EventSourceName, Raw extends { callbackID: number }, E>(
  procedure: number,
  source: S,
  eventID: number,
  payload: Codec<Raw>,
  present: (raw: Raw) => E,
): Spec<S, Raw, E> {
  return { procedure, source, eventID, payload, present };
}

/** The older layout: `{ int callbackID; remote_domain_event_X_msg msg; }`. */
function wrapped<F extends Parameters<typeof struct>[0]>(fields: F) {
  return struct({ callbackID: int, msg: struct(fields) });
}
const unwrap = <M>({ msg }: { msg: M }): M => msg;
const drop = <R extends { callbackID: number }>({ callbackID: _, ...rest }: R) => rest;

const dom = RemoteNonnullDomain;
const str = RemoteNonnullString;
const GraphicsAddress = struct({ family: int, node: str, service: str });

// prettier-ignore
const specs = {
  /** REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE (318), VIR_DOMAIN_EVENT_ID_LIFECYCLE (0) */
  DomainLifecycle: event(318, "domain", 0, wrapped({ dom, event: int, detail: int }),
    ({ msg }) => ({ dom: msg.dom, ...domainLifecycle(msg.event, msg.detail) })),
  /** REMOTE_PROC_DOMAIN_EVENT_CALLBACK_REBOOT (319), VIR_DOMAIN_EVENT_ID_REBOOT (1) */
  DomainReboot: event(319, "domain", 1, wrapped({ dom }), unwrap),
  /** …_RTC_CHANGE (320), 2: `offset` in seconds from UTC */
  DomainRTCChange: event(320, "domain", 2, wrapped({ dom, offset: hyper }), unwrap),
  /** …_WATCHDOG (321), 3 */
  DomainWatchdog: event(321, "domain", 3, wrapped({ dom, action: int }),
    ({ msg }) => ({ dom: msg.dom, action: nameOf(WATCHDOG_ACTIONS, msg.action), actionCode: msg.action })),
  /** …_IO_ERROR (322), 4 */
  DomainIOError: event(322, "domain", 4, wrapped({ dom, srcPath: str, devAlias: str, action: int }),
    ({ msg }) => ({ ...msg, action: nameOf(IO_ERROR_ACTIONS, msg.action), actionCode: msg.action })),
  /** …_GRAPHICS (323), 5: `phase` 0 CONNECT, 1 INITIALIZE, 2 DISCONNECT */
  DomainGraphics: event(323, "domain", 5, wrapped({ dom, phase: int, local: GraphicsAddress,
    remote: GraphicsAddress, authScheme: str,
    subject: array(struct({ type: str, name: str }), REMOTE_DOMAIN_EVENT_GRAPHICS_IDENTITY_MAX) }), unwrap),
  /** …_IO_ERROR_REASON (324), 6 */
  DomainIOErrorReason: event(324, "domain", 6,
    wrapped({ dom, srcPath: str, devAlias: str, action: int, reason: str }),
    ({ msg }) => ({ ...msg, action: nameOf(IO_ERROR_ACTIONS, msg.action), actionCode: msg.action })),
  /** …_CONTROL_ERROR (325), 7 */
  DomainControlError: event(325, "domain", 7, wrapped({ dom }), unwrap),
  /** …_BLOCK_JOB (326), 8: `path` is the disk's file */
  DomainBlockJob: event(326, "domain", 8, wrapped({ dom, path: str, type: int, status: int }),
    ({ msg }) => ({ ...msg, ...blockJob(msg.type, msg.status) })),
  /** …_DISK_CHANGE (327), 9 */
  DomainDiskChange: event(327, "domain", 9, wrapped({ dom, oldSrcPath: RemoteString,
    newSrcPath: RemoteString, devAlias: str, reason: int }),
    ({ msg }) => ({ ...msg, reason: nameOf(DISK_CHANGE_REASONS, msg.reason), reasonCode: msg.reason })),
  /** …_TRAY_CHANGE (328), 10 */
  DomainTrayChange: event(328, "domain", 10, wrapped({ dom, devAlias: str, reason: int }),
    ({ msg }) => ({ ...msg, reason: nameOf(TRAY_CHANGE_REASONS, msg.reason), reasonCode: msg.reason })),
  /** …_PMWAKEUP (329), 11 */
  DomainPMWakeup: event(329, "domain", 11, struct({ callbackID: int, reason: int, msg: struct({ dom }) }),
    ({ reason, msg }) => ({ dom: msg.dom, reason })),
  /** …_PMSUSPEND (330), 12 */
  DomainPMSuspend: event(330, "domain", 12, struct({ callbackID: int, reason: int, msg: struct({ dom }) }),
    ({ reason, msg }) => ({ dom: msg.dom, reason })),
  /** …_BALLOON_CHANGE (331), 13: `actual` in KiB */
  DomainBalloonChange: event(331, "domain", 13, wrapped({ dom, actual: uhyper }), unwrap),
  /** …_PMSUSPEND_DISK (332), 14 */
  DomainPMSuspendDisk: event(332, "domain", 14, struct({ callbackID: int, reason: int, msg: struct({ dom }) }),
    ({ reason, msg }) => ({ dom: msg.dom, reason })),
  /** …_DEVICE_REMOVED (333), 15 */
  DomainDeviceRemoved: event(333, "domain", 15, wrapped({ dom, devAlias: str }), unwrap),
  /** REMOTE_PROC_DOMAIN_EVENT_BLOCK_JOB_2 (339), 16: `dst` is the disk's target (vda) */
  DomainBlockJob2: event(339, "domain", 16, struct({ callbackID: int, dom, dst: str, type: int, status: int }),
    (raw) => ({ ...drop(raw), ...blockJob(raw.type, raw.status) })),
  /** …_CALLBACK_TUNABLE (346), 17 */
  DomainTunable: event(346, "domain", 17,
    struct({ callbackID: int, dom, params: array(RemoteTypedParam, REMOTE_DOMAIN_EVENT_TUNABLE_MAX) }), drop),
  /** …_CALLBACK_AGENT_LIFECYCLE (348), 18 */
  DomainAgentLifecycle: event(348, "domain", 18, struct({ callbackID: int, dom, state: int, reason: int }),
    ({ dom, state, reason }) => ({ dom, state: nameOf(AGENT_LIFECYCLE_STATES, state),
      reason: nameOf(AGENT_LIFECYCLE_REASONS, reason), stateCode: state, reasonCode: reason })),
  /** …_CALLBACK_DEVICE_ADDED (354), 19 */
  DomainDeviceAdded: event(354, "domain", 19, struct({ callbackID: int, dom, devAlias: str }), drop),
  /** …_CALLBACK_MIGRATION_ITERATION (359), 20 */
  DomainMigrationIteration: event(359, "domain", 20, struct({ callbackID: int, dom, iteration: int }), drop),
  /** …_CALLBACK_JOB_COMPLETED (363), 21 */
  DomainJobCompleted: event(363, "domain", 21,
    struct({ callbackID: int, dom, params: array(RemoteTypedParam, REMOTE_DOMAIN_JOB_STATS_MAX) }), drop),
  /** …_CALLBACK_DEVICE_REMOVAL_FAILED (367), 22 */
  DomainDeviceRemovalFailed: event(367, "domain", 22, struct({ callbackID: int, dom, devAlias: str }), drop),
  /** …_CALLBACK_METADATA_CHANGE (379), 23 */
  DomainMetadataChange: event(379, "domain", 23, struct({ callbackID: int, dom, type: int, nsuri: RemoteString }),
    (raw) => ({ ...drop(raw), type: nameOf(METADATA_TYPES, raw.type), typeCode: raw.type })),
  /** REMOTE_PROC_DOMAIN_EVENT_BLOCK_THRESHOLD (385), 24 */
  DomainBlockThreshold: event(385, "domain", 24, struct({ callbackID: int, dom, dev: str, path: RemoteString,
    threshold: uhyper, excess: uhyper }), drop),
  /** REMOTE_PROC_DOMAIN_EVENT_MEMORY_FAILURE (423), 25 */
  DomainMemoryFailure: event(423, "domain", 25,
    struct({ callbackID: int, dom, recipient: int, action: int, flags: uint }), drop),
  /** REMOTE_PROC_DOMAIN_EVENT_MEMORY_DEVICE_SIZE_CHANGE (438), 26: `size` in KiB */
  DomainMemoryDeviceSizeChange: event(438, "domain", 26,
    struct({ callbackID: int, dom, alias: str, size: uhyper }), drop),

  /** REMOTE_PROC_NETWORK_EVENT_LIFECYCLE (315), VIR_NETWORK_EVENT_ID_LIFECYCLE (0) */
  NetworkLifecycle: event(315, "network", 0,
    struct({ callbackID: int, net: RemoteNonnullNetwork, event: int, detail: int }),
    ({ net, event, detail }) => ({ net, ...lifecycle(NETWORK_EVENT_TYPES, event, detail) })),
  /** REMOTE_PROC_STORAGE_POOL_EVENT_LIFECYCLE (370), VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE (0) */
  StoragePoolLifecycle: event(370, "storagePool", 0,
    struct({ callbackID: int, pool: RemoteNonnullStoragePool, event: int, detail: int }),
    ({ pool, event, detail }) => ({ pool, ...lifecycle(STORAGE_POOL_EVENT_TYPES, event, detail) })),
  /** REMOTE_PROC_STORAGE_POOL_EVENT_REFRESH (373), VIR_STORAGE_POOL_EVENT_ID_REFRESH (1) */
  StoragePoolRefresh: event(373, "storagePool", 1,
    struct({ callbackID: int, pool: RemoteNonnullStoragePool }), drop),
  /** REMOTE_PROC_NODE_DEVICE_EVENT_LIFECYCLE (376), VIR_NODE_DEVICE_EVENT_ID_LIFECYCLE (0) */
  NodeDeviceLifecycle: event(376, "nodeDevice", 0,
    struct({ callbackID: int, dev: RemoteNonnullNodeDevice, event: int, detail: int }),
    ({ dev, event, detail }) => ({ dev, ...lifecycle(NODE_DEVICE_EVENT_TYPES, event, detail) })),
  /** REMOTE_PROC_NODE_DEVICE_EVENT_UPDATE (377), VIR_NODE_DEVICE_EVENT_ID_UPDATE (1) */
  NodeDeviceUpdate: event(377, "nodeDevice", 1,
    struct({ callbackID: int, dev: RemoteNonnullNodeDevice }), drop),
  /** REMOTE_PROC_SECRET_EVENT_LIFECYCLE (382), VIR_SECRET_EVENT_ID_LIFECYCLE (0) */
  SecretLifecycle: event(382, "secret", 0,
    struct({ callbackID: int, secret: RemoteNonnullSecret, event: int, detail: int }),
    ({ secret, event, detail }) => ({ secret, ...lifecycle(SECRET_EVENT_TYPES, event, detail) })),
  /** REMOTE_PROC_SECRET_EVENT_VALUE_CHANGED (383), VIR_SECRET_EVENT_ID_VALUE_CHANGED (1) */
  SecretValueChanged: event(383, "secret", 1,
    struct({ callbackID: int, secret: RemoteNonnullSecret }), drop),
};

function blockJob(type: number, status: number) {
  return {
    type: nameOf(BLOCK_JOB_TYPES, type),
    status: nameOf(BLOCK_JOB_STATUSES, status),
    typeCode: type,
    statusCode: status,
  };
}

type Specs = typeof specs;
export type RemoteEventMessages = { [K in keyof Specs]: Specs[K] & { readonly name: K } };
export type EventName = keyof RemoteEventMessages;
/** The object a handler of event `K` receives. */
export type EventOf<K extends EventName> = ReturnType<Specs[K]["present"]>;
export type SourceOf<K extends EventName> = RemoteEventMessages[K]["source"];

export const RemoteEventMessages = defineEventMessages(specs);

/** Any entry of the table, whatever its payload. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyEventMessage = EventMessage<EventSourceName, any, unknown>;

/** Every event message by its procedure number: how incoming MESSAGE packets are routed. */
export const eventMessagesByProcedure: ReadonlyMap<number, AnyEventMessage> = new Map(
  Object.values(RemoteEventMessages as Record<string, AnyEventMessage>).map((m) => [
    m.procedure,
    m,
  ]),
);

function defineEventMessages(table: Specs): RemoteEventMessages {
  const named: Record<string, AnyEventMessage> = {};
  const procedures = new Map<number, string>();
  const registrations = new Map<string, string>();
  for (const [name, spec] of Object.entries(table) as [
    string,
    Spec<EventSourceName, never, unknown>,
  ][]) {
    const clash = procedures.get(spec.procedure);
    const registration = `${spec.source} eventID ${spec.eventID}`;
    const twin = registrations.get(registration);
    if (clash !== undefined || twin !== undefined) {
      throw new Error(`event ${name} clashes with ${clash ?? twin} (procedure or eventID)`);
    }
    procedures.set(spec.procedure, name);
    registrations.set(registration, name);
    named[name] = { name, ...spec } as AnyEventMessage;
  }
  return named as RemoteEventMessages;
}
