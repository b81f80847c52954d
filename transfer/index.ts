/**
 * transfer/: the one place that reads and writes files and other byte sources for libvirt's
 * streams. It sits beside resources/kit, above rpc: rpc opens a volume's stream and speaks the
 * protocol (`stream.sendAll` / `stream.receiveAll`); transfer/ brings the bytes.
 *
 *   source.ts       opens a path (file-reader.ts: O_DIRECT for files mostly holes), an open file,
 *                   an http(s) URL (http.ts) or a byte stream; finds holes (hole-scanner.ts)
 *   measure.ts      hashes content and checks its size: the one size limit of an upload
 *   progress.ts     the one count of data and hole bytes, for progress and the result
 *   sink.ts         writes a download to a file (holes stay holes) or a Writable
 *   volume.ts       uploadVolume / downloadVolume: the pipeline from end to end
 */
export { uploadVolume, downloadVolume } from "./volume";
export type { TransferResult } from "./progress";
export { openSource } from "./source";
export type { Source } from "./source";
export { measure, peek } from "./measure";
export { redactUrl } from "./http";
export { FileReader } from "./file-reader";
