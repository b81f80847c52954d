/**
 * The ext transport (`qemu+ext:///system?command=/path/to/program`): libvirt runs the program,
 * without arguments, and speaks RPC over its stdin/stdout. libvirt does not count the result as
 * secure, since nothing is known about how the program reaches the daemon.
 */
import { spawn } from "node:child_process";
import type { Duplex } from "node:stream";
import { ConnectionClosedError } from "../errors";
import { processDuplex } from "./process-duplex";

export function dialExt(command: string, signal?: AbortSignal): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [], { stdio: ["pipe", "pipe", "pipe"], signal });
    const exited = new Promise<{ code: number | null; signal?: string | null }>((done) => {
      // "close", not "exit": it comes after stderr has been read to its end, so the error
      // message never misses what the command said as it died.
      child.once("close", (code, exitSignal) => done({ code, signal: exitSignal }));
      child.once("error", () => done({ code: null }));
    });
    child.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        new ConnectionClosedError(
          `cannot run the ext transport's command ${command}: ${error.message}`,
          {
            cause: error,
          },
        ),
      );
    });
    child.once("spawn", () => {
      resolve(
        processDuplex({
          output: child.stdout,
          input: child.stdin,
          errors: child.stderr,
          exited,
          close: () => {
            child.stdin.destroy();
            child.stdout.destroy();
            if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
          },
          description: `the ext transport's command ${command}`,
        }),
      );
    });
  });
}
