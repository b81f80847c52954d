/**
 * Everything of rpc/ that virtwire's own layers use (provider/, resources/, tests, benchmarks):
 * the public surface (index.ts) and the rest. Not a public API, and free to change; users import
 * `virtwire/rpc`. DEVELOPERS.md says what goes where.
 */
export * from "./index";
export { DEFAULT_URI } from "./libvirt";
export type { ProcedureApi } from "./libvirt";
export { DEFAULT_DEADLINES } from "./client/deadlines";
export type { Deadlines } from "./client/deadlines";
export { DEFAULT_KEEPALIVE } from "./client/keepalive";
export type { KeepAliveOptions } from "./client/keepalive";
export { Connection } from "./client/connection";
export type { ServerFeatures } from "./client/open";
export { LibvirtEvents } from "./events";
export type { EventApi } from "./events";
export type { EventFilter } from "./protocol/remote/events";
export { RemoteEventMessages, RemoteEventProcedures } from "./protocol/remote/events";
export * from "./errors";
export { ErrorLevel, errorCodeName, errorDomainName } from "./protocol/error-codes";
export { RemoteProcedures, RemoteProgram } from "./protocol/remote";
export { QemuProcedures, QemuProgram } from "./protocol/qemu-program";
export * from "./protocol/remote/types";
export type { Procedure, Program, ArgsOf, RetOf } from "./protocol/program";
export { collectCredentials, credentialName } from "./client/auth/credentials";
export { parseAuthConf } from "./client/auth/auth-conf";
export { isSshTransport, redact } from "./transport/uri";
export type { TransportName } from "./transport/uri";
export { SshPrivateKey, readSshPrivateKey } from "./transport/ssh-key";
export type { SshKeyProblem } from "./transport/ssh-key";
export { Stream } from "./client/stream";
export { openStream } from "./client/open-stream";
export type {
  OpenStreamOptions,
  StreamChunk,
  StreamDirection,
  StreamSink,
  StreamSource,
  WholeStreamOptions,
} from "./client/stream";
export {
  downloadSize,
  openVolumeDownload,
  openVolumeUpload,
  VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM,
  VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM,
} from "./volume-stream";
export type { StreamHost, VolumeRange } from "./volume-stream";
