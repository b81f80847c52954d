import { Socket, createServer } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConnectionClosedError } from "../errors";
import { Libvirt } from "../libvirt";
import { RemoteProcedures } from "../protocol/remote";
import { parseLibvirtUri } from "../transport/uri";
import { duplexPair } from "../../test/support/duplex-pair";
import { scriptedDaemon } from "../../test/support/fake-daemon";
import { rejection } from "../../test/support/promises";
import { connectDeadline, untilAborted } from "./connect-deadline";

const AUTH_LIST = RemoteProcedures.AuthList.number;

describe("the connect deadline", () => {
  beforeEach(() =>
    jest.useFakeTimers({ doNotFake: ["nextTick", "queueMicrotask", "setImmediate"] }),
  );
  afterEach(() => jest.useRealTimers());

  it("aborts after timeoutMs with a ConnectionClosedError naming what was connected to", async () => {
    const deadline = connectDeadline("qemu+ssh://kvm1/system", 2000);
    await jest.advanceTimersByTimeAsync(1999);
    expect(deadline.signal.aborted).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(deadline.signal.reason).toBeInstanceOf(ConnectionClosedError);
    expect(deadline.signal.reason.message).toBe(
      "connecting to qemu+ssh://kvm1/system timed out after 2000 ms",
    );
  });

  it("aborts with the reason of the caller's own signal, and leaves no timer once done", () => {
    const caller = new AbortController();
    const deadline = connectDeadline("qemu:///system", 2000, caller.signal);
    const reason = new Error("the user gave up");
    caller.abort(reason);
    expect(deadline.signal.reason).toBe(reason);
    deadline.done();
    expect(jest.getTimerCount()).toBe(0);
  });

  it("closes what is still delivered after the abort", async () => {
    const controller = new AbortController();
    let deliver!: (value: { closed: boolean }) => void;
    const late = { closed: false };
    const waiting = untilAborted(
      new Promise<{ closed: boolean }>((resolve) => (deliver = resolve)),
      controller.signal,
      (value) => (value.closed = true),
    );
    controller.abort(new ConnectionClosedError("too late"));
    await expect(waiting).rejects.toThrow("too late");
    deliver(late);
    await jest.advanceTimersByTimeAsync(0);
    expect(late.closed).toBe(true);
  });
});

describe("Libvirt.connect", () => {
  beforeEach(() =>
    jest.useFakeTimers({ doNotFake: ["nextTick", "queueMicrotask", "setImmediate"] }),
  );
  afterEach(() => jest.useRealTimers());

  it("takes a URI parsed already", async () => {
    const [client, server] = duplexPair();
    scriptedDaemon(server);
    const uri = parseLibvirtUri("qemu:///session");
    const lv = await Libvirt.connect(uri, { transport: client, keepalive: false });
    expect(lv.uri).toBe(uri);
    await lv.close();
  });

  it("fails a connection sequence that outlasts timeoutMs, and closes the transport", async () => {
    const [client, server] = duplexPair();
    scriptedDaemon(server, { ignore: [AUTH_LIST] });
    const connecting = Libvirt.connect("qemu:///system", { transport: client, timeoutMs: 500 });
    const outcome = connecting.catch((error: unknown) => error);
    await jest.advanceTimersByTimeAsync(500);
    const error = await outcome;
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect((error as Error).message).toBe("connecting to qemu:///system timed out after 500 ms");
    expect(client.destroyed).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
  });

  it("gives up when the caller's signal aborts, with its reason", async () => {
    const [client, server] = duplexPair();
    scriptedDaemon(server, { ignore: [AUTH_LIST] });
    const caller = new AbortController();
    const connecting = Libvirt.connect("qemu:///system", {
      transport: client,
      signal: caller.signal,
    });
    const outcome = connecting.catch((error: unknown) => error);
    const reason = new Error("the user gave up");
    caller.abort(reason);
    await expect(outcome).resolves.toBe(reason);
    expect(client.destroyed).toBe(true);
  });
});

describe("connecting to a socket whose daemon never speaks", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "vwtest-deadline-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("stops at the deadline, with the same message", async () => {
    const path = join(dir, "silent.sock");
    const accepted: Socket[] = [];
    const server = createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      const started = Date.now();
      const error = (await rejection(
        Libvirt.connect(`qemu:///system?socket=${path}`, { timeoutMs: 300 }),
      )) as Error;
      expect(error).toBeInstanceOf(ConnectionClosedError);
      expect(error.message).toBe(
        `connecting to qemu:///system?socket=${path} timed out after 300 ms`,
      );
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      accepted.forEach((socket) => socket.destroy());
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
