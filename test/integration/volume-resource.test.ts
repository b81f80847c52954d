/**
 * The Volume resource against the test bed's daemon, through the real dynamic-provider plugin and
 * the engine's step model (virtwire-engine.ts), step by step as `pulumi up/refresh/destroy` run it:
 * create, read, a diff without changes, growing in place (data kept), a replacement, changes made
 * outside Pulumi found by read, delete twice; uploads from a sparse file (holes kept), from a URL
 * served on loopback by this process, refused digests and downloads that leave nothing behind.
 */
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, open, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { createServer, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Libvirt, RemoteNonnullStoragePool } from "../../rpc/internal";
import { downloadVolume, uploadVolume } from "../../transfer";
import { buildNoCloudIso } from "../../resources/cloud-init-disk/nocloud";
import type { StepError } from "../support/engine";
import { UNKNOWN } from "../support/pulumi-wire";
import { VirtwireEngine, resourceInputs, virtwireType } from "../support/virtwire-engine";
import { connectTestbed, dirPoolXml, removePool, uniqueName } from "../support/testbed";

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

let lv: Libvirt;
let pool: RemoteNonnullStoragePool;
let dir: string;
let virtwire: VirtwireEngine;
let server: Server;
let baseUrl: string;

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB })) hash.update(chunk);
  return hash.digest("hex");
}

/** A sparse file of `size` bytes with 1 MiB of random data at each of `at`. */
async function sparseFile(path: string, size: number, at: number[]): Promise<void> {
  const file = await open(path, "w");
  try {
    for (const offset of at) await file.write(randomBytes(MiB), 0, MiB, offset);
    await file.truncate(size);
  } finally {
    await file.close();
  }
}

async function volumeNames(): Promise<string[]> {
  await lv.StoragePoolRefresh({ pool, flags: 0 });
  const { vols } = await lv.StoragePoolListAllVolumes({ pool, need_results: 1, flags: 0 });
  return vols.map((vol) => vol.name).sort();
}

beforeAll(async () => {
  lv = await connectTestbed();
  dir = await mkdtemp(join(tmpdir(), "vwtest-volume-"));
  const target = await mkdtemp(join(dir, "pool-"));
  ({ pool } = await lv.StoragePoolCreateXML({
    xml: dirPoolXml(uniqueName("volpool"), target),
    flags: 0,
  }));
  virtwire = await VirtwireEngine.start();
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://loopback").pathname;
    if (url === "/moved") {
      res.writeHead(302, { location: "/files/sparse.img" });
      return void res.end();
    }
    if (url.startsWith("/chunked/")) {
      // No Content-Length: the body goes out in chunks.
      res.writeHead(200, { "content-type": "application/octet-stream" });
      return void createReadStream(join(dir, url.slice("/chunked/".length))).pipe(res);
    }
    if (url.startsWith("/files/")) {
      const path = join(dir, url.slice("/files/".length));
      stat(path).then(
        ({ size }) => {
          res.writeHead(200, { "content-length": size });
          createReadStream(path).pipe(res);
        },
        () => {
          res.writeHead(404, "Not Found");
          res.end();
        },
      );
      return;
    }
    res.writeHead(404, "Not Found");
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await virtwire?.close();
  if (pool) await removePool(lv, pool);
  await lv?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("check and preview", () => {
  it("reports check failures in the engine's words, before anything is created", async () => {
    const path = join(dir, "both.img");
    await writeFile(path, "x");
    const failure = (await virtwire
      .up("Volume", "bad", { pool: pool.name, source: { path, url: "https://x/a.img" } })
      .catch((error: unknown) => error)) as StepError;
    expect(failure.diagnostics).toEqual([
      expect.stringMatching(
        /^pulumi-nodejs:dynamic\/virtwire:Volume resource 'bad' has a problem: source takes a path or a url, not both$/,
      ),
    ]);
    expect(await volumeNames()).toEqual([]);
  });

  it("previews a volume whose pool is not created yet", async () => {
    const type = virtwireType("Volume");
    const props = resourceInputs("Volume", "later", { pool: UNKNOWN, capacity: "1GiB" });
    const step = await virtwire.engine.preview(type, "later", props);
    expect(step).toMatchObject({ step: "create", calls: ["check"] });
    expect(step.inputs.name).toMatch(/^later-[0-9a-f]{7}$/);
  });
});

describe("an empty Volume through its lifecycle", () => {
  const name = "data";
  let key: string;

  it("is created sparse with the asked capacity, its key as id", async () => {
    const step = await virtwire.up("Volume", name, { pool: pool.name, capacity: "64MiB" });
    expect(step.step).toBe("create");
    expect(step.outputs).toMatchObject({
      pool: pool.name,
      capacity: 64 * MiB,
      format: "raw",
      name: expect.stringMatching(/^data-[0-9a-f]{7}$/),
    });
    expect(step.outputs.allocation).toBeLessThan(MiB);
    expect(step.id).toBe(step.outputs.key);
    expect(step.outputs.path).toBe(step.outputs.key);
    key = step.id;
  });

  it("reads back the same state, and a second up changes nothing", async () => {
    expect(await virtwire.refresh(name)).toBe("same");
    const step = await virtwire.up("Volume", name, { pool: pool.name, capacity: 64 * MiB });
    expect(step.step).toBe("same");
    expect(step.diff).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
  });

  it("grows in place and keeps its data", async () => {
    const { vol } = await lv.StorageVolLookupByKey({ key });
    const marker = randomBytes(4096);
    await uploadVolume(
      lv,
      vol,
      (async function* () {
        yield marker;
      })(),
      { length: 4096 },
    );
    const step = await virtwire.up("Volume", name, { pool: pool.name, capacity: "128MiB" });
    expect(step.step).toBe("update");
    expect(step.id).toBe(key);
    expect(step.outputs.capacity).toBe(128 * MiB);
    const head = join(dir, "head.bin");
    await downloadVolume(lv, vol, head, { length: 4096 });
    expect(await readFile(head)).toEqual(marker);
  });

  it("refuses to shrink, saying what to do", async () => {
    await expect(
      virtwire.up("Volume", name, { pool: pool.name, capacity: "32MiB" }),
    ).rejects.toThrow(
      /capacity 32 MiB .* is smaller than the volume's current 128 MiB .*pulumi up --replace/,
    );
  });

  it("is found grown when resized outside Pulumi, and a smaller capacity is then refused", async () => {
    await truncate(key, 192 * MiB);
    expect(await virtwire.refresh(name)).toBe("changed");
    expect(virtwire.outputs(name).capacity).toBe(192 * MiB);
    await expect(
      virtwire.up("Volume", name, { pool: pool.name, capacity: "128MiB" }),
    ).rejects.toThrow(/smaller than the volume's current 192 MiB/);
  });

  it("is replaced by a new volume (created first, auto-named) when the format changes", async () => {
    const step = await virtwire.up("Volume", name, {
      pool: pool.name,
      capacity: "192MiB",
      format: "qcow2",
    });
    expect(step.step).toBe("replace");
    expect(step.calls).toEqual(["check", "diff", "check", "create", "delete"]);
    expect(step.diff).toMatchObject({ replaces: ["format"], deleteBeforeReplace: false });
    expect(step.id).not.toBe(key);
    expect(step.outputs).toMatchObject({ format: "qcow2", capacity: 192 * MiB });
    expect(qcow2Compat(step.outputs.path as string)).toBe("1.1");
    await expect(lv.StorageVolLookupByKey({ key })).rejects.toThrow(/no storage vol/);
    key = step.id;
  });

  it("is reported gone when deleted outside Pulumi", async () => {
    const { vol } = await lv.StorageVolLookupByKey({ key });
    await lv.StorageVolDelete({ vol, flags: 0 });
    expect(await virtwire.refresh(name)).toBe("deleted");
  });

  it("is deleted, and deleting it again succeeds", async () => {
    await virtwire.up("Volume", name, { pool: pool.name, capacity: "1MiB" });
    const { urn, id, inputs, outputs } = virtwire.engine.resource(virtwire.urn("Volume", name));
    await virtwire.destroy(name);
    await expect(lv.StorageVolLookupByKey({ key: id })).rejects.toThrow(/no storage vol/);
    await expect(virtwire.deleteAgain(urn, id, inputs, outputs)).resolves.toBeUndefined();
  });

  it("with a fixed name, is replaced delete-first so the name is free", async () => {
    const fixed = uniqueName("fixed");
    await virtwire.up("Volume", "fixed", { pool: pool.name, name: fixed, capacity: "1MiB" });
    const step = await virtwire.up("Volume", "fixed", {
      pool: pool.name,
      name: fixed,
      capacity: "1MiB",
      format: "qcow2",
    });
    expect(step.calls).toEqual(["check", "diff", "check", "delete", "create"]);
    expect(step.outputs).toMatchObject({ name: fixed, format: "qcow2" });
    await virtwire.destroy("fixed");
  });
});

describe("uploads", () => {
  it("keep a 2 GiB sparse image's holes and record its digest", async () => {
    const image = join(dir, "sparse.img");
    await sparseFile(image, 2 * GiB, [0, GiB, 2 * GiB - MiB]);
    const digest = await sha256File(image);
    const started = Date.now();
    const step = await virtwire.up("Volume", "sparse", {
      pool: pool.name,
      source: { path: image, sha256: digest },
    });
    const seconds = (Date.now() - started) / 1000;
    expect(step.outputs).toMatchObject({ capacity: 2 * GiB, format: "raw", contentSha256: digest });
    expect(step.outputs.allocation).toBeLessThan(16 * MiB);
    const blocks = (await stat(step.outputs.path as string)).blocks * 512;
    expect(blocks).toBeLessThan(16 * MiB);
    process.stdout.write(
      `2 GiB sparse upload from a file: ${seconds.toFixed(1)} s, allocation ${step.outputs.allocation} bytes\n`,
    );
    await virtwire.plugin.waitForOutput(/uploaded .*sparse\.img: 2 GiB in/);
    await virtwire.destroy("sparse");
  });

  it("take a qcow2 image's format and virtual size, and grow it to a larger capacity", async () => {
    const image = join(dir, "cloud.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", image, "1G"]);
    const step = await virtwire.up("Volume", "cloud", {
      pool: pool.name,
      source: { path: image },
      capacity: "3GiB",
    });
    expect(step.outputs).toMatchObject({ format: "qcow2", capacity: 3 * GiB });
    const info = JSON.parse(
      execFileSync("qemu-img", ["info", "--output=json", step.outputs.path as string]).toString(),
    );
    expect(info).toMatchObject({ format: "qcow2", "virtual-size": 3 * GiB });
    expect(
      (
        await virtwire.up("Volume", "cloud", {
          pool: pool.name,
          source: { path: image },
          capacity: "3GiB",
        })
      ).step,
    ).toBe("same");

    // An overlay on it, by key and by pool and name.
    const byKey = await virtwire.up("Volume", "root", {
      pool: pool.name,
      baseVolume: { key: step.outputs.key as string },
    });
    expect(byKey.outputs).toMatchObject({
      format: "qcow2",
      capacity: 3 * GiB,
      backingStore: { path: step.outputs.path, format: "qcow2" },
    });
    expect(qcow2Compat(byKey.outputs.path as string)).toBe("1.1");
    const byName = await virtwire.up("Volume", "root2", {
      pool: pool.name,
      baseVolume: { pool: pool.name, name: step.outputs.name as string },
      capacity: "10GiB",
    });
    expect(byName.outputs).toMatchObject({
      capacity: 10 * GiB,
      backingStore: { path: step.outputs.path },
    });
    await virtwire.destroy("root2");
    await virtwire.destroy("root");
    await virtwire.destroy("cloud");
  });

  it("of an ISO image stay raw to virtwire though libvirt calls them iso", async () => {
    const iso = join(dir, "seed.iso");
    await writeFile(iso, buildNoCloudIso({ userData: "#cloud-config\n" }).image);
    const args = { pool: pool.name, source: { path: iso }, format: "raw" };
    const step = await virtwire.up("Volume", "iso", args);
    expect(step.outputs.format).toBe("iso");
    expect((await virtwire.up("Volume", "iso", args)).step).toBe("same");
    expect(await virtwire.refresh("iso")).toBe("same");
    await virtwire.destroy("iso");
  });

  it("stream from a URL (after a redirect), never logging the URL's credentials", async () => {
    const image = join(dir, "sparse.img");
    const digest = await sha256File(image);
    const url = `http://alice:hunter2@${baseUrl.slice(7)}/moved?token=s3cret`;
    const started = Date.now();
    const step = await virtwire.up("Volume", "web", {
      pool: pool.name,
      source: { url, sha256: digest },
    });
    const seconds = (Date.now() - started) / 1000;
    process.stdout.write(`2 GiB sparse upload from a URL on loopback: ${seconds.toFixed(1)} s\n`);
    expect(step.outputs).toMatchObject({ capacity: 2 * GiB, contentSha256: digest });
    expect(step.outputs.allocation).toBeLessThan(16 * MiB);
    await virtwire.plugin.waitForOutput("uploaded http://***@127.0.0.1");
    await virtwire.plugin.quiet();
    expect(virtwire.plugin.output).not.toMatch(/hunter2|s3cret/);

    // The same content from another URL (a mirror, a new signed link) keeps the volume.
    const mirror = `${baseUrl}/files/sparse.img`;
    const moved = await virtwire.up("Volume", "web", {
      pool: pool.name,
      source: { url: mirror, sha256: digest },
    });
    expect(moved).toMatchObject({ step: "update", id: step.id });
    expect(moved.outputs.source).toEqual({ url: mirror, sha256: digest });
    await virtwire.destroy("web");
  });

  it("without Content-Length need a capacity, and then fill the volume", async () => {
    const small = join(dir, "small.img");
    await writeFile(small, randomBytes(3 * MiB));
    await expect(
      virtwire.up("Volume", "chunked", {
        pool: pool.name,
        source: { url: `${baseUrl}/chunked/small.img` },
      }),
    ).rejects.toThrow(/was sent without Content-Length.*set capacity/);
    const step = await virtwire.up("Volume", "chunked", {
      pool: pool.name,
      source: { url: `${baseUrl}/chunked/small.img` },
      capacity: "8MiB",
    });
    expect(step.outputs).toMatchObject({
      capacity: 8 * MiB,
      contentSha256: await sha256File(small),
    });
    await virtwire.destroy("chunked");
  });

  it("leave nothing behind on a wrong sha256, a 404, a missing file or a compressed image", async () => {
    const before = await volumeNames();
    const image = join(dir, "sparse.img");
    const actual = await sha256File(image);
    const wrong = "0".repeat(64);
    await expect(
      virtwire.up("Volume", "bad", {
        pool: pool.name,
        source: { url: `${baseUrl}/files/sparse.img`, sha256: wrong },
      }),
    ).rejects.toThrow(`does not match source.sha256: expected ${wrong}, got ${actual}`);
    await expect(
      virtwire.up("Volume", "bad", {
        pool: pool.name,
        source: { url: `${baseUrl}/files/missing.img` },
      }),
    ).rejects.toThrow(/files\/missing\.img failed: the server answered 404 Not Found/);
    await expect(
      virtwire.up("Volume", "bad", { pool: pool.name, source: { path: join(dir, "missing.img") } }),
    ).rejects.toThrow(/has a problem: source\.path .*missing\.img does not exist on this machine/);
    const gz = join(dir, "disk.img.gz");
    await writeFile(gz, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]));
    await expect(
      virtwire.up("Volume", "bad", { pool: pool.name, source: { path: gz } }),
    ).rejects.toThrow(/gzip-compressed.*gunzip it first/);
    expect(await volumeNames()).toEqual(before);
  });

  it("run side by side in one pool while other volumes are being built", async () => {
    const image = join(dir, "parallel.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", image, "2G"]);
    const names = Array.from({ length: 8 }, (_, index) => `parallel${index}`);
    const steps = await Promise.all(
      names.map((name, index) =>
        index % 2
          ? virtwire.up("Volume", name, { pool: pool.name, source: { path: image } })
          : virtwire.up("Volume", name, { pool: pool.name, capacity: "1GiB", format: "qcow2" }),
      ),
    );
    for (const [index, step] of steps.entries()) {
      expect(step.outputs).toMatchObject({ format: "qcow2", capacity: (index % 2 ? 2 : 1) * GiB });
    }
    await Promise.all(names.map((name) => virtwire.destroy(name)));
  });

  it("fail clearly when the pool does not exist", async () => {
    await expect(
      virtwire.up("Volume", "nopool", { pool: "vwtest-no-such-pool", capacity: "1MiB" }),
    ).rejects.toThrow('storage pool "vwtest-no-such-pool" does not exist');
  });
});

/** The qcow2 compatibility level qemu-img reads from an image: "1.1" is qcow2 v3, "0.10" v2. */
function qcow2Compat(path: string): string {
  const info = JSON.parse(execFileSync("qemu-img", ["info", "--output=json", path]).toString());
  return info["format-specific"].data.compat;
}
