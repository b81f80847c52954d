/**
 * Volume operations beyond create and upload, against the test bed's daemon through the real
 * plugin: a full copy on the host (cloneOf), a file put into a dir pool behind libvirt's back found
 * by name (the pool is refreshed), wiping before delete, and LUKS encryption with a Secret.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Libvirt, RemoteNonnullStoragePool } from "../../rpc/internal";
import { GUEST_INITRD, GUEST_KERNEL } from "../support/guest";
import { secret } from "../support/pulumi-wire";
import { VirtwireEngine, resourceInputs, virtwireType } from "../support/virtwire-engine";
import { connectTestbed, dirPoolXml, removePool, uniqueName } from "../support/testbed";

const MiB = 1024 ** 2;
let lv: Libvirt;
let pool: RemoteNonnullStoragePool;
let dir: string;
let target: string;
let virtwire: VirtwireEngine;

beforeAll(async () => {
  lv = await connectTestbed();
  dir = await mkdtemp(join(tmpdir(), "vwtest-volops-"));
  target = await mkdtemp(join(dir, "pool-"));
  ({ pool } = await lv.StoragePoolCreateXML({
    xml: dirPoolXml(uniqueName("volops"), target),
    flags: 0,
  }));
  virtwire = await VirtwireEngine.start();
});

afterEach(async () => {
  await virtwire.engine.destroy().catch(() => undefined);
  virtwire.reset();
});

afterAll(async () => {
  await virtwire?.close();
  if (pool) await removePool(lv, pool);
  await lv?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A file of `size` bytes with 1 MiB of random data at 0 and at 3 MiB, holes elsewhere. */
async function imageFile(name: string, size = 6 * MiB): Promise<string> {
  const path = join(dir, name);
  const file = await open(path, "w");
  await file.write(randomBytes(MiB), 0, MiB, 0);
  await file.write(randomBytes(MiB), 0, MiB, 3 * MiB);
  await file.truncate(size);
  await file.close();
  return path;
}

const sha256 = async (path: string) =>
  createHash("sha256")
    .update(await readFile(path))
    .digest("hex");

describe("a Volume copied with cloneOf", () => {
  it("is a full, independent copy of the original, read back without a change", async () => {
    const path = await imageFile("original.img");
    const original = await virtwire.up("Volume", "original", {
      pool: pool.name,
      source: { path },
    });
    const args = {
      pool: pool.name,
      cloneOf: { pool: pool.name, name: original.outputs.name as string },
    };
    const copy = await virtwire.up("Volume", "copy", args);
    expect(copy.outputs).toMatchObject({ format: "raw", capacity: 6 * MiB, cloneOf: args.cloneOf });
    expect(copy.outputs.backingStore).toBeUndefined();
    expect(await sha256(copy.outputs.path as string)).toBe(await sha256(path));
    expect(await virtwire.refresh("copy")).toBe("same");
    expect((await virtwire.up("Volume", "copy", args)).step).toBe("same");
    await virtwire.destroy("original");
    expect(await sha256(copy.outputs.path as string)).toBe(await sha256(path));
  });

  it("finds an original copied into the pool's directory behind libvirt's back, and grows the copy", async () => {
    const name = `${uniqueName("byhand")}.img`;
    await writeFile(join(target, name), randomBytes(MiB));
    const args = { pool: pool.name, cloneOf: { pool: pool.name, name }, capacity: "2MiB" };
    const copy = await virtwire.up("Volume", "grown", args);
    expect(copy.outputs.capacity).toBe(2 * MiB);
    const props = resourceInputs(
      "Volume",
      "got",
      { pool: pool.name },
      virtwire.urn("Volume", "got"),
    );
    const got = await virtwire.engine.get(
      virtwireType("Volume"),
      "got",
      `${pool.name}/${name}`,
      props,
    );
    expect(got.id).toBe(join(target, name));
  });

  it("is refused, at preview, for an original a running guest writes to, naming the guest and the fix", async () => {
    const path = await imageFile("busy.img", MiB);
    const original = await virtwire.up("Volume", "busy", { pool: pool.name, source: { path } });
    const busy = { pool: pool.name, name: original.outputs.name as string };
    const guest = await virtwire.up("Domain", "writer", {
      type: "qemu",
      memory: "128MiB",
      kernel: GUEST_KERNEL,
      initrd: GUEST_INITRD,
      cmdline: "console=ttyS0",
      console: { type: "file", path: join(dir, "writer.log") },
      shutdownTimeout: 5,
      disks: [{ volume: busy, format: "raw" }],
    });
    expect(guest.outputs.running).toBe(true);
    const volumes = async () =>
      (await lv.StoragePoolListAllVolumes({ pool, need_results: 1, flags: 0 })).vols.length;
    const before = await volumes();
    const refused = virtwire.up("Volume", "busycopy", { pool: pool.name, cloneOf: busy });
    await expect(refused).rejects.toThrow(
      new RegExp(
        `cloneOf.*written to by running domain ${guest.outputs.name as string}.*shut .* down first.*DomainSnapshot`,
        "s",
      ),
    );
    expect(await volumes()).toBe(before); // nothing was copied
  });
});

describe("a Volume with wipeOnDelete", () => {
  it("is overwritten with zeros before libvirt deletes it; changing the setting changes nothing else", async () => {
    const path = await imageFile("secret-data.img", 2 * MiB);
    const args = { pool: pool.name, source: { path } };
    const created = await virtwire.up("Volume", "wiped", args);
    const changed = await virtwire.up("Volume", "wiped", { ...args, wipeOnDelete: "zero" });
    expect(changed).toMatchObject({ step: "update", id: created.id });
    expect((await virtwire.up("Volume", "wiped", { ...args, wipeOnDelete: "zero" })).step).toBe(
      "same",
    );
    // The file as it was, held open: what the wipe wrote is seen through it after the delete.
    const held = await open(created.outputs.path as string, "r");
    try {
      await virtwire.destroy("wiped");
      const { buffer } = await held.read(Buffer.alloc(2 * MiB), 0, 2 * MiB, 0);
      expect(buffer.equals(Buffer.alloc(2 * MiB))).toBe(true);
    } finally {
      await held.close();
    }
    await virtwire.plugin.quiet();
    expect(virtwire.plugin.output).toContain("wiped (zero) before its deletion");
  });
});

describe("an encrypted Volume", () => {
  it("is a qcow2 volume with LUKS encryption whose passphrase is a Secret's", async () => {
    const name = `${uniqueName("enc")}.qcow2`;
    const key = await virtwire.up("Secret", "key", {
      usageType: "volume",
      usageId: join(target, name),
      value: secret(`pass ${randomBytes(8).toString("hex")}`),
    });
    const args = {
      pool: pool.name,
      name,
      capacity: "16MiB",
      format: "qcow2",
      encryption: { secret: key.id },
    };
    const created = await virtwire.up("Volume", "enc", args);
    const { xml } = await lv.StorageVolGetXMLDesc({
      vol: (await lv.StorageVolLookupByKey({ key: created.id })).vol,
      flags: 0,
    });
    expect(xml).toContain(`<encryption format='luks'>`);
    // qcow2's header: crypt_method (offset 32) 2 is LUKS.
    const header = (await readFile(created.outputs.path as string)).subarray(0, 36);
    expect(header.subarray(0, 4).toString("latin1")).toBe("QFI\xfb");
    expect(header.readUInt32BE(32)).toBe(2);
    expect(await virtwire.refresh("enc")).toBe("same");
    expect((await virtwire.up("Volume", "enc", args)).step).toBe("same");

    // A guest whose disk names the secret starts: QEMU opens the image with its passphrase.
    const disk = { volume: { pool: pool.name, name }, format: "qcow2", encryptionSecret: key.id };
    const guest = {
      type: "qemu",
      memory: "128MiB",
      kernel: GUEST_KERNEL,
      initrd: GUEST_INITRD,
      cmdline: "console=ttyS0",
      console: { type: "file", path: join(dir, "enc.log") },
      shutdownTimeout: 5,
      disks: [disk],
    };
    const withoutSecret = { volume: disk.volume, format: disk.format };
    const refused = virtwire.up("Domain", "plainguest", { ...guest, disks: [withoutSecret] });
    await expect(refused).rejects.toThrow(/secret/i);
    const started = await virtwire.up("Domain", "encguest", guest);
    expect(started.outputs).toMatchObject({ running: true, disks: [disk] });
    expect(await virtwire.refresh("encguest")).toBe("same");
    expect((await virtwire.up("Domain", "encguest", guest)).step).toBe("same");
  });

  it("is refused at preview for an upload", async () => {
    const path = await imageFile("plain.img", MiB);
    const error = await virtwire
      .up("Volume", "upload", { pool: pool.name, source: { path }, encryption: { secret: "x" } })
      .then(
        () => new Error("the up passed"),
        (e: Error) => e,
      );
    expect(error.message).toMatch(/encryption.*uploaded volume cannot be encrypted/s);
  });
});

describe("a VolumeExport", () => {
  it("downloads a volume into a local file with its holes kept, and deletes the file with the resource", async () => {
    const source = await imageFile("exported.img", 64 * MiB);
    const volume = await virtwire.up("Volume", "data", {
      pool: pool.name,
      source: { path: source },
    });
    const path = join(dir, "download.img");
    const args = { volume: volume.id, path };
    const exported = await virtwire.up("VolumeExport", "backup", args);
    expect(exported.outputs).toMatchObject({ size: 64 * MiB, path });
    expect(await sha256(path)).toBe(await sha256(source));
    // du: 2 MiB of data in a 64 MiB file.
    const { size, blocks } = await stat(path);
    expect(size).toBe(64 * MiB);
    expect(blocks * 512).toBeLessThan(8 * MiB);
    expect(await virtwire.refresh("backup")).toBe("same");
    expect((await virtwire.up("VolumeExport", "backup", args)).step).toBe("same");
    await virtwire.destroy("backup");
    await expect(stat(path)).rejects.toThrow(/ENOENT/);
  });

  it("is replaced at the same path, the old file deleted first, and is its owner's only", async () => {
    const first = await virtwire.up("Volume", "one", {
      pool: pool.name,
      source: { path: await imageFile("one.img", MiB) },
    });
    const second = await virtwire.up("Volume", "two", {
      pool: pool.name,
      source: { path: await imageFile("two.img", MiB) },
    });
    const path = join(dir, "same.img");
    await virtwire.up("VolumeExport", "same", { volume: first.id, path });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const replaced = await virtwire.up("VolumeExport", "same", { volume: second.id, path });
    expect(replaced.step).toBe("replace");
    expect(await sha256(path)).toBe(await sha256(join(dir, "two.img")));
  });

  it("never overwrites a file: one at the path is refused at preview", async () => {
    const path = join(dir, "taken.img");
    await writeFile(path, "mine");
    const error = await virtwire.up("VolumeExport", "taken", { volume: "/nowhere", path }).then(
      () => new Error("the up passed"),
      (e: Error) => e,
    );
    expect(error.message).toContain("exists already, and a VolumeExport never overwrites a file");
    expect(await readFile(path, "utf8")).toBe("mine");
  });
});
