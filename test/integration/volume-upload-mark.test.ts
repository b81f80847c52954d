/**
 * A volume under a name the user chose, whose upload was cut short, against the test bed daemon
 * (resources/volume/upload-mark.ts): the upload carries the resource's mark in its first 512 bytes
 * until its last step, so the next `up` of the same stack knows the half-written volume as its own,
 * deletes it and uploads again; a volume without that resource's mark is never touched, and the
 * error says how to go on. The upload is cut short for real: the provider's process is killed
 * while a download it is uploading from stalls, as when the Pulumi CLI is killed.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { Libvirt, RemoteNonnullStoragePool, RemoteNonnullStorageVol } from "../../rpc/internal";
import { downloadVolume, uploadVolume } from "../../transfer";
import { hasUploadMark, uploadMark, uploadMarked } from "../../resources/volume/upload-mark";
import { TEST_URI, connectTestbed, dirPoolXml, removePool, uniqueName } from "../support/testbed";
import { VirtwireEngine } from "../support/virtwire-engine";

jest.setTimeout(180_000);

const MiB = 1 << 20;
let lv: Libvirt;
let dir: string;
let pool: RemoteNonnullStoragePool;
let server: Server;
let baseUrl: string;
/** Responses of /stalled, held open until the end of the file. */
const stalled: ServerResponse[] = [];
/** 3 MiB: random data around a MiB of zeros (a hole in a sparse upload). */
const content = Buffer.concat([randomBytes(MiB + 77), Buffer.alloc(MiB), randomBytes(MiB - 77)]);

beforeAll(async () => {
  lv = await connectTestbed();
  dir = await mkdtemp(join(tmpdir(), "vwtest-mark-"));
  await mkdir(join(dir, "pool"));
  ({ pool } = await lv.StoragePoolCreateXML({
    xml: dirPoolXml(uniqueName("mark"), join(dir, "pool")),
    flags: 0,
  }));
  await writeFile(join(dir, "content.img"), content);
  // /stalled sends the first MiB of the content, announces all of it, and never sends the rest.
  server = createServer((request, response) => {
    response.writeHead(200, { "content-length": content.length });
    response.write(content.subarray(0, MiB));
    stalled.push(response);
    request.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const response of stalled) response.destroy();
  await new Promise((resolve) => server?.close(resolve));
  if (pool) await removePool(lv, pool);
  await rm(dir, { recursive: true, force: true });
  await lv?.close();
});

async function volume(name: string, bytes: number): Promise<RemoteNonnullStorageVol> {
  const xml = `<volume><name>${name}</name><capacity>${bytes}</capacity><target><format type='raw'/></target></volume>`;
  return (await lv.StorageVolCreateXML({ pool, xml, flags: 0 })).vol;
}

async function bytesOf(vol: RemoteNonnullStorageVol): Promise<Buffer> {
  const parts: Buffer[] = [];
  const sink = new PassThrough();
  sink.on("data", (chunk: Buffer) => parts.push(chunk));
  await downloadVolume(lv, vol, sink);
  return Buffer.concat(parts);
}

async function* chunksOf(bytes: Buffer, size = 64 * 1024): AsyncGenerator<Buffer> {
  // One buffer reused for every chunk, as a file source does.
  const shared = Buffer.alloc(size);
  for (let at = 0; at < bytes.length; at += size) {
    const n = bytes.copy(shared, 0, at, Math.min(at + size, bytes.length));
    yield shared.subarray(0, n);
  }
}

const urn = (name: string) =>
  `urn:pulumi:test::mark::pulumi-nodejs:dynamic/virtwire:Volume::${name}`;

describe("an upload with the mark of its resource", () => {
  it.each([
    ["3 MiB with a hole", content, content.length],
    ["exactly 512 bytes", content.subarray(0, 512), 512],
    ["shorter than its volume", content.subarray(0, 100), 4096],
  ])("writes %s exactly, and no mark is left", async (_what, bytes, capacity) => {
    const vol = await volume(`${uniqueName("mark")}.img`, capacity);
    const mark = { owner: urn("a"), present: false };
    const result = await uploadMarked(lv, vol, chunksOf(bytes), mark, capacity);
    expect(result.bytes).toBe(bytes.length);
    expect(mark.present).toBe(false);
    const expected = Buffer.concat([bytes, Buffer.alloc(capacity - bytes.length)]);
    expect((await bytesOf(vol)).equals(expected)).toBe(true);
    expect(await hasUploadMark(lv, vol, urn("a"))).toBe(false);
    await lv.StorageVolDelete({ vol, flags: 0 });
  });

  it("leaves the mark of its resource, and of no other, when it fails midway", async () => {
    const vol = await volume(`${uniqueName("mark")}.img`, content.length);
    async function* failing() {
      yield* chunksOf(content.subarray(0, MiB));
      throw new Error("the source broke off");
    }
    const mark = { owner: urn("a"), present: false };
    await expect(uploadMarked(lv, vol, failing(), mark, content.length)).rejects.toThrow(
      "the source broke off",
    );
    expect(mark.present).toBe(true);
    expect((await bytesOf(vol)).subarray(0, 512).equals(uploadMark(urn("a")))).toBe(true);
    expect(await hasUploadMark(lv, vol, urn("a"))).toBe(true);
    expect(await hasUploadMark(lv, vol, urn("b"))).toBe(false);
    await lv.StorageVolDelete({ vol, flags: 0 });
  });
});

describe("a Volume named by the user whose upload was cut short", () => {
  it("is deleted and uploaded again by the next up of the same stack", async () => {
    const stack = `test-${randomBytes(3).toString("hex")}`;
    const name = `${uniqueName("mark")}.img`;
    const first = await VirtwireEngine.start({ stack });
    const cut = first
      .up("Volume", "image", { pool: pool.name, name, source: { url: `${baseUrl}/stalled` } })
      .catch((error: Error) => error);
    // The provider is killed once its upload has begun and the download stalls, a MiB in, as a
    // killed CLI kills it.
    const urnOf = first.urn("Volume", "image");
    await waitFor(async () => {
      const found = await lv.StorageVolLookupByName({ pool, name }).catch(() => undefined);
      return found !== undefined && (await hasUploadMark(lv, found.vol, urnOf));
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await first.plugin.stop();
    expect(await cut).toBeInstanceOf(Error);
    const { vol: left } = await lv.StorageVolLookupByName({ pool, name });
    expect(await hasUploadMark(lv, left, urnOf)).toBe(true);
    expect((await bytesOf(left)).equals(content)).toBe(false);

    const second = await VirtwireEngine.start({ stack });
    try {
      const printed = second.plugin.mark();
      const args = { pool: pool.name, name, source: { path: join(dir, "content.img") } };
      const made = await second.up("Volume", "image", args);
      expect(made.step).toBe("create");
      expect(printed()).toContain(
        `volume ${name} in storage pool ${pool.name}: removed, left half-written by an upload of this resource cut short`,
      );
      const { vol } = await lv.StorageVolLookupByName({ pool, name });
      expect((await bytesOf(vol)).equals(content)).toBe(true);
    } finally {
      await second.close();
    }
  });

  it("is never deleted when it carries no mark of the resource; the error's advice works", async () => {
    const stack = `test-${randomBytes(3).toString("hex")}`;
    const name = `${uniqueName("mark")}.img`;
    const virtwire = await VirtwireEngine.start({ stack });
    try {
      const args = { pool: pool.name, name, source: { path: join(dir, "content.img") } };
      // A run cut short after its upload finished: the volume is whole, the state never got it.
      await virtwire.up("Volume", "image", args);
      virtwire.reset();
      // Another resource's unfinished upload under the name: not this resource's either.
      const other = await volume(`${uniqueName("mark")}.img`, 4096);
      await uploadVolume(lv, other, chunksOf(uploadMark(urn("other"))));

      const refused = await virtwire.up("Volume", "image", args).catch((error: Error) => error);
      expect(String(refused)).toContain(
        `a volume named "${name}" already exists in storage pool ${pool.name}. If it is this resource's own volume: pulumi up --replace makes the new volume before it deletes the old one, so under the same name it needs the resource option deleteBeforeReplace: true; or give the volume another name. If it is left over from a failed run and nothing needs it, delete it (virsh vol-delete ${name} --pool ${pool.name})`,
      );
      const { vol } = await lv.StorageVolLookupByName({ pool, name });
      expect((await bytesOf(vol)).equals(content)).toBe(true);

      // The advice, as the user runs it.
      execFileSync("virsh", ["-c", TEST_URI, "vol-delete", name, "--pool", pool.name]);
      expect((await virtwire.up("Volume", "image", args)).step).toBe("create");

      const otherName = other.name;
      const refusedOther = await virtwire
        .up("Volume", "other", { ...args, name: otherName })
        .catch((error: Error) => error);
      expect(String(refusedOther)).toContain(`a volume named "${otherName}" already exists`);
      await expect(lv.StorageVolLookupByName({ pool, name: otherName })).resolves.toBeDefined();
      await lv.StorageVolDelete({ vol: other, flags: 0 });
    } finally {
      await virtwire.close();
    }
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
