import { PassThrough, Writable } from "node:stream";
import { ConnectionClosedError } from "../errors";
import { processDuplex } from "./process-duplex";

function fakeProcess() {
  let exit!: (status: { code: number | null; signal?: string | null }) => void;
  const streams = {
    output: new PassThrough(),
    input: new PassThrough(),
    errors: new PassThrough(),
    exited: new Promise<{ code: number | null; signal?: string | null }>((resolve) => {
      exit = resolve;
    }),
    close: jest.fn(),
    description: "the remote command on root@kvm1:22",
  };
  return {
    streams,
    exit: (status: { code: number | null; signal?: string | null }) => exit(status),
  };
}

function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve, reject) => {
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}

describe("processDuplex", () => {
  it("reads the process's stdout and writes its stdin", async () => {
    const { streams, exit } = fakeProcess();
    const duplex = processDuplex(streams);
    const written = collect(streams.input);
    const read = collect(duplex);
    duplex.write(Buffer.from("call"));
    duplex.end();
    streams.output.end(Buffer.from("reply"));
    exit({ code: 0 });
    expect((await written).toString()).toBe("call");
    expect((await read).toString()).toBe("reply");
  });

  it("fails with the exit status and the tail of stderr when the process fails", async () => {
    const { streams, exit } = fakeProcess();
    const duplex = processDuplex(streams);
    const failed = new Promise<Error>((resolve) => duplex.on("error", resolve));
    duplex.resume();
    streams.errors.write("sh: 1: nc: not found\n");
    streams.output.end();
    exit({ code: 127 });
    const error = await failed;
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect(error.message).toBe(
      "the remote command on root@kvm1:22 exited with status 127: sh: 1: nc: not found",
    );
  });

  it("names a signal", async () => {
    const { streams, exit } = fakeProcess();
    const duplex = processDuplex(streams);
    const failed = new Promise<Error>((resolve) => duplex.on("error", resolve));
    duplex.resume();
    streams.output.end();
    exit({ code: null, signal: "KILL" });
    expect((await failed).message).toMatch(/was killed by KILL \(it wrote nothing to stderr\)/);
  });

  it("closes the process once when destroyed", () => {
    const { streams } = fakeProcess();
    const duplex = processDuplex(streams);
    duplex.destroy();
    duplex.destroy();
    expect(streams.close).toHaveBeenCalledTimes(1);
  });

  it("is done with a chunk only once the process's stdin has taken it (an ssh2 channel keeps it)", async () => {
    const { streams } = fakeProcess();
    // Like an ssh2 channel with its window full: a large buffer that holds the chunk unprocessed.
    const held: (() => void)[] = [];
    streams.input = new Writable({
      highWaterMark: 2 * 1024 * 1024,
      write: (_chunk, _encoding, callback) => held.push(callback),
    }) as unknown as PassThrough;
    const duplex = processDuplex(streams);
    let done = false;
    duplex.write(Buffer.alloc(256 * 1024), () => (done = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(held).toHaveLength(1);
    expect(done).toBe(false);
    held.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(true);
    duplex.destroy();
  });

  it("applies backpressure to the process's output", async () => {
    const { streams } = fakeProcess();
    const duplex = processDuplex(streams);
    const big = Buffer.alloc(1024 * 1024);
    streams.output.write(big);
    await new Promise((resolve) => setImmediate(resolve));
    expect(streams.output.isPaused()).toBe(true);
    duplex.resume();
    await new Promise((resolve) => setImmediate(resolve));
    expect(streams.output.isPaused()).toBe(false);
    duplex.destroy();
  });
});

describe("processDuplex when the process dies before reading", () => {
  it("reports the exit status and stderr rather than the broken pipe", async () => {
    const { streams, exit } = fakeProcess();
    const duplex = processDuplex(streams);
    const failed = new Promise<Error>((resolve) => duplex.on("error", resolve));
    streams.errors.write("relay: no route\n");
    streams.input.emit("error", Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    exit({ code: 3 });
    const error = await failed;
    expect(error.message).toBe(
      "the remote command on root@kvm1:22 exited with status 3: relay: no route",
    );
    expect((error.cause as Error).message).toBe("write EPIPE");
  });

  it("reports the pipe error when the process exited cleanly", async () => {
    const { streams, exit } = fakeProcess();
    const duplex = processDuplex(streams);
    const failed = new Promise<Error>((resolve) => duplex.on("error", resolve));
    streams.output.emit("error", new Error("read ECONNRESET"));
    exit({ code: 0 });
    expect((await failed).message).toBe(
      "the remote command on root@kvm1:22 failed: read ECONNRESET",
    );
  });
});
