/**
 * virtwire/rpc: a libvirt RPC client in pure TypeScript.
 *
 *   const lv = await Libvirt.connect("qemu:///system");
 *   const { dom } = await lv.DomainLookupByName({ name: "vm1" });
 *   await lv.close();
 */
export { Libvirt, DEFAULT_URI } from "./libvirt";
export type { ConnectOptions, ProcedureApi, QemuApi, RemoteApi } from "./libvirt";
export type { LibvirtConnectionEvents } from "./libvirt";
export type { KeepAliveOptions } from "./client/keepalive";
export { DEFAULT_DEADLINES, LONG_PROCEDURES } from "./client/deadlines";
export type { Deadlines } from "./client/deadlines";
export type { PerCallOptions } from "./client/call";
export { LibvirtEvents } from "./events";
export type { EventApi, EventHandler, EventSubscription } from "./events";
export { RemoteEventMessages, RemoteEventProcedures } from "./protocol/remote/events";
export type { EventFilter, EventName, EventOf } from "./protocol/remote/events";
export * from "./errors";
export {
  ErrorCode,
  ErrorDomain,
  ErrorLevel,
  errorCodeName,
  errorDomainName,
} from "./protocol/error-codes";
export { RemoteProcedures, RemoteProgram } from "./protocol/remote";
export {
  DomainQemuAgentCommandTimeout,
  DomainQemuMonitorCommandFlags,
  QemuProcedures,
  QemuProgram,
} from "./protocol/qemu-program";
export * from "./protocol/remote/types";
export * from "./protocol/remote/constants";
export { networkUpdate } from "./network-update";
export {
  CredentialType,
  callbackCredentials,
  collectCredentials,
  credentialName,
  environmentCredentials,
  staticCredentials,
} from "./client/auth/credentials";
export type {
  CredentialContext,
  CredentialRequest,
  CredentialSource,
} from "./client/auth/credentials";
export { authConfCredentials, findAuthConf, parseAuthConf } from "./client/auth/auth-conf";
export type { Procedure, Program, ArgsOf, RetOf } from "./protocol/program";
export { Connection } from "./client/connection";
export type { ServerFeatures } from "./client/open";
export { isSshTransport, parseLibvirtUri } from "./transport/uri";
export type { LibvirtUri, TransportName } from "./transport/uri";
export { Stream, openStream } from "./client/stream";
export type { OpenStreamOptions, StreamChunk, StreamDirection } from "./client/stream";
export {
  downloadVolume,
  uploadVolume,
  VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM,
  VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM,
} from "./volume-transfer";
export type {
  DownloadDestination,
  DownloadOptions,
  StreamHost,
  TransferProgress,
  TransferResult,
  UploadOptions,
  UploadSource,
} from "./volume-transfer";
export { FileReader } from "./file-reader";
export type { FileReaderOptions } from "./file-reader";
export { HostKeyError } from "./transport/errors";
export type { HostKeyProblem } from "./transport/errors";
export type { TlsOptions } from "./transport/tls-credentials";
export type { SshOptions } from "./transport/ssh-auth";
export { SshPrivateKey, readSshPrivateKey } from "./transport/ssh-key";
export type { SshKeyProblem } from "./transport/ssh-key";
