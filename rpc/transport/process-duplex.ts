/**
 * A remote or local process used as the RPC byte stream (the SSH transports' remote command, the
 * ext transport's program) as one Duplex: its stdout is what we read, its stdin what we write.
 *
 * When the process ends with a failure status, the stream fails with an error that carries the
 * status and the tail of the process's stderr ("nc: command not found", virt-ssh-helper's
 * "Failed to connect socket …"), instead of a bare end-of-stream.
 */
import { Duplex, Readable, Writable } from "node:stream";
import { ConnectionClosedError } from "../errors";

export interface ProcessStreams {
  /** What the process writes (its stdout). */
  output: Readable;
  /** What the process reads (its stdin). */
  input: Writable;
  /** Its stderr, collected for messages. */
  errors?: Readable;
  /** Resolves when the process has exited: a code, or a signal name. */
  exited: Promise<{ code: number | null; signal?: string | null }>;
  /** Ends the process and whatever carries it (channel, SSH connection, child). */
  close(): void;
  /** For messages: "the remote command on root@host:22". */
  description: string;
}

const STDERR_TAIL = 600;
/** How long to wait for the exit status after the output ended. */
const EXIT_STATUS_WAIT_MS = 2_000;

export function processDuplex(streams: ProcessStreams): Duplex {
  let stderr = "";
  streams.errors?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-STDERR_TAIL);
  });
  let closed = false;
  const closeOnce = () => {
    if (closed) return;
    closed = true;
    streams.close();
  };

  const duplex = new Duplex({
    read() {
      streams.output.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      // Done with a chunk only once the process's stdin is: an ssh2 channel whose window is full
      // keeps the chunk by reference although its write() returned true, and a zero-copy stream
      // packet (Connection.write) may be overwritten by its owner as soon as this duplex drains.
      // A failed write is reported by the input's "error" (see finish below), not here.
      streams.input.write(chunk, () => callback());
    },
    final(callback) {
      streams.input.end();
      callback();
    },
    destroy(error, callback) {
      closeOnce();
      callback(error);
    },
  });

  streams.output.on("data", (chunk: Buffer) => {
    if (!duplex.push(chunk)) streams.output.pause();
  });
  // The output ended or a pipe failed (EPIPE when the process died first): the exit status and
  // stderr explain more than the pipe error, so wait for them, once.
  let finishing = false;
  const finish = (cause?: Error) => {
    if (finishing) return;
    finishing = true;
    void waitForExit(streams.exited).then((status) => {
      if (duplex.destroyed) return;
      const failed = (status?.code ?? 0) !== 0 || Boolean(status?.signal);
      if (failed) {
        const how = status?.signal
          ? `was killed by ${status.signal}`
          : `exited with status ${status?.code}`;
        const detail = stderr.trim() ? `: ${stderr.trim()}` : " (it wrote nothing to stderr)";
        duplex.destroy(
          new ConnectionClosedError(`${streams.description} ${how}${detail}`, { cause }),
        );
      } else if (cause) {
        duplex.destroy(
          new ConnectionClosedError(`${streams.description} failed: ${cause.message}`, { cause }),
        );
      } else {
        duplex.push(null);
      }
    });
  };
  streams.output.once("end", () => finish());
  streams.output.on("error", finish);
  streams.input.on("error", finish);
  return duplex;
}

function waitForExit(
  exited: ProcessStreams["exited"],
): Promise<{ code: number | null; signal?: string | null } | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), EXIT_STATUS_WAIT_MS);
    exited.then(
      (status) => {
        clearTimeout(timer);
        resolve(status);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}
