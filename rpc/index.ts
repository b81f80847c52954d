/**
 * virtwire/rpc: a libvirt RPC client in pure TypeScript.
 *
 *   const lv = await Libvirt.connect("qemu:///system");
 *   const { dom } = await lv.DomainLookupByName({ name: "vm1" });
 *   await lv.close();
 *
 * The public surface, on purpose narrow (DEVELOPERS.md, "The public surface of virtwire/rpc"):
 * connecting and its options, the errors, the vocabulary of the methods' arguments and results,
 * and events. Everything else is internal (rpc/internal.ts) and may change.
 */

// Connecting: Libvirt.connect(uri, options) and one method per procedure.
export { Libvirt } from "./libvirt";
export type { ConnectOptions, LibvirtConnectionEvents, QemuApi, RemoteApi } from "./libvirt";
export type { PerCallOptions } from "./client/call";
export type { OptionPath } from "./client/option-names";
export { LONG_PROCEDURES } from "./client/deadlines";
export { parseLibvirtUri } from "./transport/uri";
export type { LibvirtUri } from "./transport/uri";
export type { TlsOptions } from "./transport/tls-credentials";
export type { SshOptions } from "./transport/ssh-auth";
export {
  CredentialType,
  callbackCredentials,
  environmentCredentials,
  staticCredentials,
} from "./client/auth/credentials";
export type {
  CredentialContext,
  CredentialRequest,
  CredentialSource,
} from "./client/auth/credentials";
export { authConfCredentials, findAuthConf } from "./client/auth/auth-conf";

// Errors: what the daemon said (LibvirtError, with libvirt's code) and what the client found.
export {
  AuthError,
  CallTimeoutError,
  ConnectionClosedError,
  KeepaliveTimeoutError,
  LibvirtError,
  ProtocolError,
  StreamTimeoutError,
  TimeoutError,
  UriError,
  VirtwireRpcError,
  XdrError,
  hasErrorCode,
  isNotFound,
} from "./errors";
export { HostKeyError } from "./transport/errors";
export type { HostKeyProblem } from "./transport/errors";
export { ErrorCode, ErrorDomain } from "./protocol/error-codes";

// The methods' arguments and results: libvirt's flag and state enums, object references, UUIDs.
export * from "./protocol/remote/constants";
export * from "./protocol/remote/constants-snapshot";
export {
  DomainQemuAgentCommandTimeout,
  DomainQemuMonitorCommandFlags,
} from "./protocol/qemu-program";
export { TypedParamType, formatUuid, parseUuid } from "./protocol/remote/types";
export type {
  RemoteDomainInterface,
  RemoteNetworkDhcpLease,
  RemoteNonnullDomain,
  RemoteNonnullDomainSnapshot,
  RemoteNonnullNetwork,
  RemoteNonnullNodeDevice,
  RemoteNonnullNWFilter,
  RemoteNonnullSecret,
  RemoteNonnullStoragePool,
  RemoteNonnullStorageVol,
  RemoteTypedParam,
} from "./protocol/remote/types";
export { networkUpdate } from "./network-update";

// Events: lv.events.onDomainLifecycle(handler) and the rest.
export type { EventHandler, EventSubscription, LibvirtEvents } from "./events";
export type { EventName, EventOf } from "./protocol/remote/events";
