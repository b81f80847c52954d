/**
 * Volumes that domains use, against the test bed's daemon through the real plugin and the engine's
 * step model: nothing a running guest has open is deleted, whether a Volume or CloudInitDisk is
 * destroyed, replaced delete-first under its fixed name, or replaced with `pulumi up --replace`
 * (which the engine runs create-first without asking the provider's diff); the base of a running
 * overlay counts. A domain that is defined but not running does not hold a volume (libvirt allows
 * the delete, and its Domain is updated or started again afterwards), but does keep a create from
 * taking the volume for a failed run's leftover. Guests are the tiny one, running as long as the
 * test needs them; they never have to boot.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DomainCreateFlags, Libvirt, RemoteNonnullStoragePool } from "../../rpc/internal";
import { downloadVolume, uploadVolume } from "../../transfer";
import { GUEST_CMDLINE, GUEST_INITRD, GUEST_KERNEL, guestDomainXml } from "../support/guest";
import type { PropertyMap } from "../support/pulumi-wire";
import { VirtwireEngine, resourceInputs, virtwireType } from "../support/virtwire-engine";
import { connectTestbed, dirPoolXml, removePool, uniqueName } from "../support/testbed";

jest.setTimeout(180_000);

let lv: Libvirt;
let dir: string;
let pool: RemoteNonnullStoragePool;
let virtwire: VirtwireEngine;
/** Domains made by hand, removed after each test. */
const byHand: string[] = [];

beforeAll(async () => {
  lv = await connectTestbed();
  dir = await mkdtemp(join(tmpdir(), "vwtest-inuse-"));
  const target = await mkdtemp(join(dir, "pool-"));
  ({ pool } = await lv.StoragePoolCreateXML({
    xml: dirPoolXml(uniqueName("inuse"), target),
    flags: 0,
  }));
  virtwire = await VirtwireEngine.start();
});

afterEach(async () => {
  for (const name of byHand.splice(0)) {
    const found = await lv.DomainLookupByName({ name }).catch(() => undefined);
    if (found) await lv.DomainDestroy(found).catch(() => undefined);
    if (found) await lv.DomainUndefineFlags({ ...found, flags: 0 }).catch(() => undefined);
  }
  // Domains first, as Pulumi orders a destroy by dependency: their volumes are deleted only then.
  const domains = virtwire.engine.state.resources
    .filter((entry) => entry.type === virtwireType("Domain"))
    .map((entry) => entry.urn);
  await virtwire.engine.destroy(domains).catch(() => undefined);
  await virtwire.engine.destroy().catch(() => undefined);
  virtwire.reset();
});

afterAll(async () => {
  await virtwire?.close();
  if (pool) await removePool(lv, pool);
  await lv?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A Domain of the tiny guest with these disks; running unless said otherwise. */
function guest(vm: string, fields: PropertyMap): PropertyMap {
  return {
    type: "qemu",
    memory: "128MiB",
    kernel: GUEST_KERNEL,
    initrd: GUEST_INITRD,
    cmdline: GUEST_CMDLINE,
    console: { type: "file", path: join(dir, `${vm}.console`) },
    shutdownTimeout: 0,
    ...fields,
  };
}

const onVolume = (name: unknown): PropertyMap => ({
  disks: [{ volume: { pool: pool.name, name: String(name) } }],
});

/** Writes `marker` at the start of the volume with this key. */
async function mark(key: string, marker: Buffer): Promise<void> {
  const { vol } = await lv.StorageVolLookupByKey({ key });
  await uploadVolume(
    lv,
    vol,
    (async function* () {
      yield marker;
    })(),
    { length: marker.length },
  );
}

/** The first `length` bytes of the volume with this key. */
async function head(key: string, length: number): Promise<Buffer> {
  const { vol } = await lv.StorageVolLookupByKey({ key });
  const file = join(dir, `head-${randomBytes(3).toString("hex")}.bin`);
  await downloadVolume(lv, vol, file, { length });
  return readFile(file);
}

async function isRunning(name: unknown): Promise<boolean> {
  const { dom } = await lv.DomainLookupByName({ name: String(name) });
  return (await lv.DomainIsActive({ dom })).active === 1;
}

describe("a Volume a running guest uses", () => {
  it("is not deleted when its fixed name makes a replacement delete-first; the guest keeps it", async () => {
    const name = uniqueName("fixed");
    const created = await virtwire.up("Volume", "disk", {
      pool: pool.name,
      name,
      capacity: "1MiB",
    });
    const marker = randomBytes(4096);
    await mark(created.id, marker);
    const vm = await virtwire.up("Domain", "vm", guest("vm", onVolume(name)));
    expect(await isRunning(vm.outputs.name)).toBe(true);

    const replaced = virtwire.up("Volume", "disk", {
      pool: pool.name,
      name,
      capacity: "1MiB",
      format: "qcow2",
    });
    await expect(replaced).rejects.toThrow(
      `volume ${name} in storage pool ${pool.name} (${created.id}) is in use by running domain ${vm.outputs.name}, so it was not deleted: deleting it would pull the disk from under the guest. Stop that domain first (running: false on its Domain, or virsh shutdown ${vm.outputs.name}) and run pulumi up again, or change the Domain so that it no longer uses the volume`,
    );
    expect(await head(created.id, 4096)).toEqual(marker);
    expect(await isRunning(vm.outputs.name)).toBe(true);

    // Stopped, the domain holds nothing: the volume is replaced, and the guest starts on the new one.
    await virtwire.up("Domain", "vm", guest("vm", { ...onVolume(name), running: false }));
    const again = await virtwire.up("Volume", "disk", {
      pool: pool.name,
      name,
      capacity: "1MiB",
      format: "qcow2",
    });
    expect(again.calls).toEqual(["check", "diff", "check", "delete", "create"]);
    expect(again.outputs).toMatchObject({ name, format: "qcow2" });
    await virtwire.up("Domain", "vm", guest("vm", onVolume(name)));
    expect(await isRunning(vm.outputs.name)).toBe(true);
  });

  it("is not deleted, nor the base of its overlay, until the guest is gone", async () => {
    const base = await virtwire.up("Volume", "base", {
      pool: pool.name,
      capacity: "1MiB",
      format: "qcow2",
    });
    const overlay = await virtwire.up("Volume", "overlay", {
      pool: pool.name,
      baseVolume: { key: base.id },
    });
    const vm = await virtwire.up("Domain", "vm", guest("vm", onVolume(overlay.outputs.name)));
    const running = `is in use by running domain ${vm.outputs.name}, so it was not deleted`;
    await expect(virtwire.destroy("base")).rejects.toThrow(running);
    await expect(virtwire.destroy("overlay")).rejects.toThrow(running);
    await lv.StorageVolLookupByKey({ key: base.id });
    await lv.StorageVolLookupByKey({ key: overlay.id });

    await virtwire.destroy("vm");
    await virtwire.destroy("overlay");
    await virtwire.destroy("base");
    await expect(lv.StorageVolLookupByKey({ key: base.id })).rejects.toThrow(/no storage vol/);
  });

  it("given by path to a guest made outside Pulumi is not deleted either", async () => {
    const disk = await virtwire.up("Volume", "disk", { pool: pool.name, capacity: "1MiB" });
    const name = uniqueName("outside");
    byHand.push(name);
    const devices = `<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${disk.id}'/><target dev='vda' bus='virtio'/></disk>`;
    const xml = guestDomainXml(name, { serialLog: join(dir, `${name}.console`), devices });
    await lv.DomainCreateXML({ xml_desc: xml, flags: DomainCreateFlags.NONE });
    await expect(virtwire.destroy("disk")).rejects.toThrow(
      `is in use by running domain ${name}, so it was not deleted`,
    );
    await lv.StorageVolLookupByKey({ key: disk.id });
  });
});

describe("a Volume a defined domain uses", () => {
  it("is deleted, as libvirt allows: the domain starts again once its disk is back", async () => {
    const disk = await virtwire.up("Volume", "disk", { pool: pool.name, capacity: "1MiB" });
    const vm = await virtwire.up("Domain", "vm", {
      ...guest("vm", onVolume(disk.outputs.name)),
      running: false,
    });
    expect(await isRunning(vm.outputs.name)).toBe(false);
    await virtwire.destroy("disk");
    await expect(lv.StorageVolLookupByKey({ key: disk.id })).rejects.toThrow(/no storage vol/);
  });

  it("under its derived name is no leftover: a fresh create leaves it alone", async () => {
    // As after a lost state: the volume and a domain on it are there, the stack has neither.
    const args: PropertyMap = { pool: pool.name, capacity: "1MiB" };
    const urn = virtwire.urn("Volume", "lost");
    const preview = await virtwire.engine.preview(
      virtwireType("Volume"),
      "lost",
      resourceInputs("Volume", "lost", args, urn),
    );
    const volName = preview.inputs.name as string;
    const { vol } = await lv.StorageVolCreateXML({
      pool,
      xml: `<volume><name>${volName}</name><capacity unit='KiB'>64</capacity></volume>`,
      flags: 0,
    });
    const domain = uniqueName("holder");
    byHand.push(domain);
    const devices = `<disk type='volume' device='disk'><driver name='qemu' type='raw'/><source pool='${pool.name}' volume='${volName}'/><target dev='vda' bus='virtio'/></disk>`;
    await lv.DomainDefineXML({
      xml: guestDomainXml(domain, { serialLog: join(dir, `${domain}.console`), devices }),
    });
    await expect(virtwire.up("Volume", "lost", args)).rejects.toThrow(
      `a volume named "${volName}" already exists in storage pool ${pool.name}, used by domain ${domain} (not running). Its name is the one virtwire derives for this resource, so it is this resource's own volume, not a leftover of a failed run: pulumi up --replace makes the new volume before it deletes the old one, so under the same name it needs the resource option deleteBeforeReplace: true; or give the volume another name`,
    );
    expect((await lv.StorageVolGetInfo({ vol })).capacity).toBe(64n * 1024n);
    await lv.StorageVolDelete({ vol, flags: 0 });
  });
});

describe("pulumi up --replace of a Volume", () => {
  it("auto-named: makes a new, empty volume under the same name, and leaves it in place", async () => {
    const args: PropertyMap = { pool: pool.name, capacity: "1MiB" };
    const created = await virtwire.up("Volume", "disk", args);
    await mark(created.id, randomBytes(4096));
    const printed = virtwire.plugin.mark();
    const replaced = await virtwire.up("Volume", "disk", args, { replace: true });
    await virtwire.plugin.quiet(50); // stdout travels beside the gRPC answer and may come after it
    const log = printed();
    expect(replaced.calls).toEqual(["check", "create", "delete"]);
    expect(replaced.outputs.name).toBe(created.outputs.name);
    expect(replaced.id).toBe(created.id);
    expect(await head(replaced.id, 4096)).toEqual(Buffer.alloc(4096));
    expect(log).toContain(
      `virtwire: volume ${created.outputs.name} in storage pool ${pool.name}: not deleted again: its replacement under the same name already took its place in this run`,
    );
    expect(await virtwire.refresh("disk")).toBe("same");
  });

  it("auto-named, under a running guest: touches nothing, and says what to do instead", async () => {
    const args: PropertyMap = { pool: pool.name, capacity: "1MiB" };
    const created = await virtwire.up("Volume", "disk", args);
    const marker = randomBytes(4096);
    await mark(created.id, marker);
    const vm = await virtwire.up("Domain", "vm", guest("vm", onVolume(created.outputs.name)));
    await expect(virtwire.up("Volume", "disk", args, { replace: true })).rejects.toThrow(
      `a volume named "${created.outputs.name}" already exists in storage pool ${pool.name}, used by running domain ${vm.outputs.name}. Its name is the one virtwire derives for this resource, so it is this resource's own volume, not a leftover of a failed run: pulumi up --replace makes the new volume before it deletes the old one, so under the same name it needs the resource option deleteBeforeReplace: true, and the domain stopped, as the old volume is then deleted first; or give the volume another name`,
    );
    expect(await head(created.id, 4096)).toEqual(marker);
    expect(await isRunning(vm.outputs.name)).toBe(true);
  });

  it("with a fixed name: needs deleteBeforeReplace, and then makes the volume again", async () => {
    const name = uniqueName("fixedrep");
    const args: PropertyMap = { pool: pool.name, name, capacity: "1MiB" };
    const created = await virtwire.up("Volume", "disk", args);
    const refused = virtwire.up("Volume", "disk", args, { replace: true });
    await expect(refused).rejects.toThrow(
      `a volume named "${name}" already exists in storage pool ${pool.name}. If it is this resource's own volume: pulumi up --replace makes the new volume before it deletes the old one, so under the same name it needs the resource option deleteBeforeReplace: true; or give the volume another name.`,
    );
    await lv.StorageVolLookupByKey({ key: created.id });
    const replaced = await virtwire.up("Volume", "disk", args, {
      replace: true,
      deleteBeforeReplace: true,
    });
    expect(replaced.calls).toEqual(["check", "delete", "create"]);
    expect(replaced.id).toBe(created.id);
  });
});

describe("a CloudInitDisk a running guest has as its seed", () => {
  it("is not deleted", async () => {
    const seed = await virtwire.up("CloudInitDisk", "seed", {
      pool: pool.name,
      userData: "#cloud-config\n",
    });
    const vm = await virtwire.up("Domain", "vm", {
      ...guest("vm", {}),
      cloudInitDisk: { pool: pool.name, name: String(seed.outputs.name) },
    });
    await expect(virtwire.destroy("seed")).rejects.toThrow(
      `volume ${seed.outputs.name} in storage pool ${pool.name} (${seed.id}) is in use by running domain ${vm.outputs.name}, so it was not deleted`,
    );
    await lv.StorageVolLookupByKey({ key: seed.id });
  });
});
