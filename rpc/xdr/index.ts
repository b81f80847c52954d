export * from "./codec";
export { XdrReader } from "./reader";
export { XdrWriter, padding } from "./writer";
