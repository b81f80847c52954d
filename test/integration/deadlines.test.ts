/**
 * Deadlines against a real libvirtd: a private one (test/support/private-daemon.ts) that these
 * tests freeze with SIGSTOP; the shared test bed daemon is never touched.
 *
 * A frozen daemon answers no keepalive either, so the client's keepalive is off here (or slower
 * than the deadline) to see the deadlines act on their own. A daemon that answers keepalive but
 * never a call cannot be made of a real libvirtd: the unit tests play that one with fake peers
 * (rpc/client/call-deadlines.test.ts, stream-deadlines.test.ts).
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import {
  CallTimeoutError,
  ConnectOptions,
  Libvirt,
  RemoteNonnullStorageVol,
  StreamTimeoutError,
} from "../../rpc/internal";
import { downloadVolume, uploadVolume } from "../../transfer";
import { PrivateDaemon } from "../support/private-daemon";
import { rejection } from "../support/promises";
import { VirtwireEngine } from "../support/virtwire-engine";

const DEADLINE_MS = 3000;
const MiB = 1024 * 1024;

let daemon: PrivateDaemon;
const open: Libvirt[] = [];

async function connect(options: ConnectOptions = {}): Promise<Libvirt> {
  const lv = await Libvirt.connect(daemon.uri, {
    keepalive: false,
    callTimeoutMs: DEADLINE_MS,
    streamIdleTimeoutMs: DEADLINE_MS,
    ...options,
  });
  open.push(lv);
  return lv;
}

/** The error a promise rejects with, and how long that took. */
async function failure(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  const error = await rejection(promise);
  return { error, ms: Date.now() - started };
}

/** A dir pool in the daemon's own directory, holding one raw volume of `size` bytes. */
async function volumeOf(lv: Libvirt, size: number): Promise<RemoteNonnullStorageVol> {
  const name = `vwtest-deadline-${randomBytes(4).toString("hex")}`;
  const target = join(daemon.dir, name);
  const { pool } = await lv.StoragePoolDefineXML({
    xml: `<pool type="dir"><name>${name}</name><target><path>${target}</path></target></pool>`,
    flags: 0,
  });
  await lv.StoragePoolBuild({ pool, flags: 0 });
  await lv.StoragePoolCreate({ pool, flags: 0 });
  const xml = `<volume><name>disk.raw</name><capacity>${size}</capacity><target><format type="raw"/></target></volume>`;
  const { vol } = await lv.StorageVolCreateXML({ pool, xml, flags: 0 });
  return vol;
}

beforeAll(async () => {
  daemon = await PrivateDaemon.start();
});

afterEach(async () => {
  daemon.thaw();
  for (const lv of open.splice(0)) await lv.close();
});

afterAll(async () => {
  await daemon?.dispose(); // its pools and volumes live in its own directory, removed with it
});

describe("deadlines against a frozen private libvirtd", () => {
  it("fail a call within callTimeoutMs, naming the procedure; its late reply is dropped after the thaw", async () => {
    const lv = await connect();
    await lv.ConnectGetLibVersion();
    daemon.freeze();
    const { error, ms } = await failure(lv.ConnectGetHostname());
    console.log(`deadlines: a call to a frozen daemon failed after ${ms} ms`);
    expect(error).toBeInstanceOf(CallTimeoutError);
    expect(error).toMatchObject({ procedure: "ConnectGetHostname", timeoutMs: DEADLINE_MS });
    expect((error as Error).message).toMatch(/did not answer ConnectGetHostname within 3 s/);
    expect(ms).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
    expect(ms).toBeLessThan(DEADLINE_MS + 2000);
    expect(lv.closed).toBe(false);

    daemon.thaw(); // the daemon now answers the abandoned call: the answer is dropped
    await expect(lv.ConnectGetLibVersion()).resolves.toMatchObject({ lib_ver: expect.any(BigInt) });
    await expect(lv.ConnectGetHostname()).resolves.toEqual({ hostname: expect.any(String) });
    expect(lv.closed).toBe(false);
  }, 30_000);

  it("fail an upload with StreamTimeoutError when no room to send comes, and carry on after the thaw", async () => {
    const lv = await connect();
    const vol = await volumeOf(lv, 256 * MiB);
    let frozenAt = 0;
    const source = (async function* () {
      for (let sent = 0; sent < 256 * MiB; sent += MiB) yield Buffer.alloc(MiB, 1);
    })();
    const onProgress = ({ bytes }: { bytes: number }) => {
      if (bytes >= 8 * MiB && !frozenAt) {
        daemon.freeze();
        frozenAt = Date.now();
      }
    };
    const error = await rejection(uploadVolume(lv, vol, source, { onProgress }));
    const ms = Date.now() - frozenAt;
    console.log(`deadlines: an upload to a frozen daemon failed ${ms} ms after the freeze`);
    expect(error).toBeInstanceOf(StreamTimeoutError);
    expect(error).toMatchObject({ procedure: "StorageVolUpload", waitingFor: "room to send" });
    // the idle deadline, then at most another one for the abort's answer
    expect(ms).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
    expect(ms).toBeLessThan(2 * DEADLINE_MS + 2000);
    daemon.thaw();
    await expect(lv.ConnectGetLibVersion()).resolves.toBeDefined();
    expect(lv.closed).toBe(false);
  }, 60_000);

  it("fail a download with StreamTimeoutError when no data comes for streamIdleTimeoutMs", async () => {
    const lv = await connect();
    const vol = await volumeOf(lv, 256 * MiB);
    let frozenAt = 0;
    const onProgress = ({ bytes }: { bytes: number }) => {
      if (bytes >= 8 * MiB && !frozenAt) {
        daemon.freeze();
        frozenAt = Date.now();
      }
    };
    const path = join(daemon.dir, "download.raw");
    const error = await rejection(downloadVolume(lv, vol, path, { onProgress }));
    const ms = Date.now() - frozenAt;
    console.log(`deadlines: a download from a frozen daemon failed ${ms} ms after the freeze`);
    expect(error).toBeInstanceOf(StreamTimeoutError);
    expect(error).toMatchObject({ procedure: "StorageVolDownload", waitingFor: "data" });
    expect(ms).toBeLessThan(2 * DEADLINE_MS + 2000);
    daemon.thaw();
    await expect(lv.ConnectGetLibVersion()).resolves.toBeDefined();
  }, 60_000);
});

describe("the provider against a frozen private libvirtd", () => {
  it("fails `up` within virtwire:callTimeout with a message naming the libvirt call", async () => {
    const virtwire = await VirtwireEngine.start({
      config: {
        "virtwire:uri": daemon.uri,
        "virtwire:callTimeout": "3",
        "virtwire:longCallTimeout": "5",
      },
    });
    try {
      const pool = (name: string) => ({ type: "dir", targetPath: join(daemon.dir, name) });
      await virtwire.up("Pool", "before", pool("vwtest-deadline-before")); // connects
      daemon.freeze();
      const started = Date.now();
      const error = await rejection(virtwire.up("Pool", "after", pool("vwtest-deadline-after")));
      const ms = Date.now() - started;
      const message = String((error as Error).message ?? error);
      console.log(`deadlines: up against a frozen daemon failed after ${ms} ms: ${message}`);
      expect(message).toMatch(
        /libvirt did not answer ((Connect|StoragePool)\w+) within [35] s; the call was abandoned .* pulumi refresh/,
      );
      expect(message).toMatch(/raise virtwire:(long)?[cC]allTimeout \(seconds\)/);
      expect(ms).toBeLessThan(15_000);
    } finally {
      daemon.thaw();
      await virtwire.close();
    }
  }, 180_000);
});
