/**
 * Keepalive and daemon restarts against a real libvirtd: a private one (test/support/
 * private-daemon.ts) that these tests freeze, kill and restart; the shared test bed daemon is never
 * touched.
 */
import { randomBytes } from "node:crypto";
import { ConnectionClosedError, KeepaliveTimeoutError, Libvirt } from "../../rpc";
import { uploadVolume } from "../../transfer";
import { PrivateDaemon } from "../support/private-daemon";
import { rejection } from "../support/promises";
import { dirPoolXml } from "../support/testbed";

const KEEPALIVE = { interval: 2, count: 3 }; // dead after 2 × (3 + 1) = 8 s of silence

/** The error a promise rejects with, and how long that took. */
async function failure(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  const error = await rejection(promise);
  return { error, ms: Date.now() - started };
}

function closedEvent(lv: Libvirt): Promise<Error> {
  return new Promise((resolve) => lv.once("closed", resolve));
}

describe("keepalive against a private libvirtd", () => {
  let daemon: PrivateDaemon;
  const open: Libvirt[] = [];
  const connect = async () => {
    const lv = await Libvirt.connect(daemon.uri, { keepalive: KEEPALIVE });
    open.push(lv);
    return lv;
  };

  beforeAll(async () => {
    daemon = await PrivateDaemon.start();
  });

  afterEach(async () => {
    for (const lv of open.splice(0)) await lv.close();
  });

  afterAll(async () => {
    await daemon?.dispose();
  });

  it("talks to the private daemon in session mode with keepalive on both sides", async () => {
    const lv = await connect();
    expect(lv.features.keepalive).toBe(true);
    await expect(lv.ConnectGetURI()).resolves.toEqual({
      uri: expect.stringMatching(/^qemu:\/\/\/session/),
    });
  });

  it("stays open through long idle periods (PINGs are answered)", async () => {
    const lv = await connect();
    await new Promise((resolve) => setTimeout(resolve, 10_000)); // more than 2 × (3 + 1) s
    expect(lv.closed).toBe(false);
    await expect(lv.ConnectGetLibVersion()).resolves.toMatchObject({ lib_ver: expect.any(BigInt) });
  }, 30_000);

  it("fails a pending call with KeepaliveTimeoutError within 30 s when the daemon freezes", async () => {
    const lv = await connect();
    await lv.ConnectGetLibVersion();
    const closed = closedEvent(lv);
    daemon.freeze();
    try {
      const { error, ms } = await failure(lv.ConnectGetHostname());
      console.log(`keepalive: a frozen daemon was detected after ${ms} ms`);
      expect(error).toBeInstanceOf(KeepaliveTimeoutError);
      expect(error).toBeInstanceOf(ConnectionClosedError);
      expect((error as Error).message).toMatch(/the libvirt daemon stopped answering/);
      expect(ms).toBeGreaterThanOrEqual(6_000);
      expect(ms).toBeLessThan(30_000);
      expect(lv.closed).toBe(true);
      expect(lv.closeReason).toBe(error);
      await expect(closed).resolves.toBe(error);
      await expect(lv.ConnectGetHostname()).rejects.toBe(error);
    } finally {
      daemon.thaw();
    }
    // The daemon itself was only paused: a new connection works.
    const again = await connect();
    await expect(again.ConnectGetLibVersion()).resolves.toBeDefined();
  }, 60_000);

  it("fails a pending call with ConnectionClosedError when the daemon dies, and reconnects after its restart", async () => {
    const lv = await connect();
    await lv.ConnectGetLibVersion();
    const closed = closedEvent(lv);
    daemon.freeze(); // the call below stays unanswered for certain
    const pending = failure(lv.ConnectGetHostname());
    await new Promise((resolve) => setTimeout(resolve, 200));
    await daemon.restart("SIGKILL");
    const { error, ms } = await pending;
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect(error).not.toBeInstanceOf(KeepaliveTimeoutError);
    expect(ms).toBeLessThan(6_000); // the hang-up is seen at once, not by keepalive
    await expect(closed).resolves.toBe(error);
    const again = await connect();
    await expect(again.ConnectGetHostname()).resolves.toEqual({ hostname: expect.any(String) });
  }, 60_000);

  it("fails every upload under way on the connection with ConnectionClosedError as soon as the daemon dies", async () => {
    const lv = await connect();
    const { pool } = await lv.StoragePoolCreateXML({
      xml: dirPoolXml("vwtest-keepalive-uploads", `${daemon.dir}/pool`),
      flags: 1, // VIR_STORAGE_POOL_CREATE_WITH_BUILD: the daemon's user makes the directory
    });
    const vols = await Promise.all(
      [0, 1, 2, 3].map(async (i) => {
        const xml = `<volume><name>up-${i}.raw</name><capacity unit='MiB'>256</capacity><target><format type='raw'/></target></volume>`;
        return (await lv.StorageVolCreateXML({ pool, xml, flags: 0 })).vol;
      }),
    );
    async function* endless() {
      const block = randomBytes(1024 * 1024);
      for (;;) yield block;
    }
    // Four uploads share the connection and are under way; frozen, the daemon stops reading, and
    // each waits for room to send.
    const sending: Promise<void>[] = [];
    const uploads = vols.map((vol) => {
      let sent!: () => void;
      sending.push(new Promise((resolve) => (sent = resolve)));
      const onProgress = ({ bytes }: { bytes: number }) => bytes >= 8 * 1024 * 1024 && sent();
      const upload = uploadVolume(lv, vol, endless(), { onProgress });
      return rejection(upload).then((error) => ({ error, at: Date.now() }));
    });
    await Promise.all(sending);
    daemon.freeze();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const killed = Date.now();
    await daemon.restart("SIGKILL");
    for (const { error, at } of await Promise.all(uploads)) {
      expect(error).toBeInstanceOf(ConnectionClosedError);
      expect(error).not.toBeInstanceOf(KeepaliveTimeoutError);
      expect(at - killed).toBeLessThan(6_000); // the hang-up is seen at once, not by keepalive
    }
  }, 60_000);

  it("reports a clean daemon restart as a closed connection and reconnects", async () => {
    const lv = await connect();
    await lv.ConnectGetLibVersion();
    const closed = closedEvent(lv);
    await daemon.restart("SIGTERM");
    const reason = await closed;
    expect(reason).toBeInstanceOf(ConnectionClosedError);
    expect(reason).not.toBeInstanceOf(KeepaliveTimeoutError);
    expect(lv.closed).toBe(true);
    await expect(lv.ConnectGetLibVersion()).rejects.toBe(reason);
    const again = await connect();
    await expect(again.ConnectGetLibVersion()).resolves.toBeDefined();
  }, 60_000);
});
