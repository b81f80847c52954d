/**
 * Everything of rpc/ that virtwire's own layers use (provider/, resources/, transfer/, tests,
 * benchmarks): the public surface (index.ts) and the rest. Not a public API, and free to change;
 * users import `virtwire/rpc`. DEVELOPERS.md says what goes where.
 */
export * from "./index";
export { DEFAULT_DEADLINES } from "./client/deadlines";
export type { Deadlines } from "./client/deadlines";
export { DEFAULT_KEEPALIVE } from "./client/keepalive";
export { Connection } from "./client/connection";
export * from "./errors";
export { RemoteProcedures, RemoteProgram } from "./protocol/remote";
export * from "./protocol/remote/types";
export type { Program } from "./protocol/program";
export { collectCredentials } from "./client/auth/credentials";
export { isSshTransport, redact } from "./transport/uri";
export { SshPrivateKey, readSshPrivateKey } from "./transport/ssh-key";
export { openStream } from "./client/open-stream";
export { STREAM_DATA_MAX } from "./client/stream";
export type { StreamChunk } from "./client/stream";
export { downloadSize, openVolumeDownload, openVolumeUpload } from "./volume-stream";
export type { StreamHost, VolumeRange } from "./volume-stream";
