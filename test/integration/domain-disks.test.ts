/**
 * A Domain's disk settings through the real plugin against the test bed: the tiny guest boots
 * with a tuned data disk (cache, io, discard, detectZeroes, serial, I/O limits), reads back with
 * no diff, takes new I/O limits live (the same QEMU process, live and config XML both changed)
 * and a new cache mode with a restart; refresh and get() read what was given. A shut-off domain
 * holds a loop device as a block disk, a shared raw image, a SCSI disk with a WWN and per-disk boot
 * orders; impossible combinations are refused at preview, naming the property.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DomainXMLFlags, Libvirt, parseUuid } from "../../rpc";
import type { DomainDisk, DomainInputs } from "../../resources/kit/generated/types";
import { Engine } from "../support/engine";
import { GUEST_CMDLINE, GUEST_INITRD, GUEST_KERNEL, waitForConsole } from "../support/guest";
import { PropertyMap } from "../support/pulumi-wire";
import { writeSparseFile } from "../support/sparse-file";
import { connectTestbed, uniqueName } from "../support/testbed";
import { VirtwireEngine, resourceInputs, virtwireType } from "../support/virtwire-engine";

const DOMAIN = virtwireType("Domain");
const MiB = 1024 * 1024;

jest.setTimeout(180_000);

let virtwire: VirtwireEngine;
let lv: Libvirt;
let engine: Engine;
let scratch: string;

beforeAll(async () => {
  [virtwire, lv] = await Promise.all([VirtwireEngine.start(), connectTestbed()]);
  scratch = await mkdtemp(join(tmpdir(), "vwtest-disks-"));
});

beforeEach(() => {
  engine = virtwire.reset();
});

afterEach(async () => {
  await engine.destroy().catch(() => undefined);
});

afterAll(async () => {
  await virtwire?.close();
  await rm(scratch, { recursive: true, force: true });
  await lv?.close();
});

const names = new Map<string, string>();
const nameOf = (name: string) => names.get(name) ?? names.set(name, uniqueName(name)).get(name)!;

const guest = (name: string, disks: DomainDisk[], extra: Partial<DomainInputs> = {}) =>
  ({
    name: nameOf(name),
    type: "qemu",
    memory: "128MiB",
    kernel: GUEST_KERNEL,
    initrd: GUEST_INITRD,
    cmdline: GUEST_CMDLINE,
    console: { type: "file", path: join(scratch, `${name}.log`) },
    shutdownTimeout: 5,
    disks,
    ...extra,
  }) as DomainInputs;

async function up(name: string, args: DomainInputs) {
  const printed = virtwire.plugin.mark();
  const step = await engine.up(DOMAIN, name, resourceInputs("Domain", name, args as PropertyMap));
  return { ...step, outputs: step.outputs as Record<string, unknown>, log: printed() };
}

const preview = (name: string, args: DomainInputs) =>
  engine.preview(DOMAIN, name, resourceInputs("Domain", name, args as PropertyMap)).then(
    () => "accepted",
    (error: Error) => error.message,
  );

async function domainOf(id: string) {
  return (await lv.DomainLookupByUUID({ uuid: parseUuid(id) })).dom;
}

async function xmlOf(id: string, flags: number): Promise<string> {
  return (await lv.DomainGetXMLDesc({ dom: await domainOf(id), flags })).xml;
}

it("boots with a tuned disk, changes its I/O limits live and its cache with a restart", async () => {
  const image = join(scratch, "data.raw");
  await writeSparseFile(image, 16 * MiB, []);
  const data = (iotune: DomainDisk["iotune"], cache: DomainDisk["cache"] = "none"): DomainDisk => ({
    file: image,
    format: "raw",
    cache,
    io: cache === "none" ? "native" : "threads",
    discard: "unmap",
    detectZeroes: "unmap",
    serial: "vw-data-1",
    iotune,
  });
  const first = { totalBytesSec: 8 * MiB, totalBytesSecMax: 16 * MiB, readIopsSec: 400 };
  const second = { readBytesSec: 4 * MiB, writeBytesSec: 2 * MiB, totalIopsSec: 300 };
  let started = Date.now();
  const created = await up("tuned", guest("tuned", [data(first)]));
  expect(created.step).toBe("create");
  await waitForConsole(join(scratch, "tuned.log"), /VIRTWIRE-GUEST: booted/);
  const booted = Date.now() - started;
  started = Date.now();
  expect((created.outputs.disks as DomainDisk[])[0]).toMatchObject({
    ...data(first),
    target: "vda",
  });
  const inactive = await xmlOf(created.id, DomainXMLFlags.INACTIVE);
  expect(inactive).toMatch(
    /<driver name='qemu' type='raw' cache='none' io='native' discard='unmap' detect_zeroes='unmap'\/>/,
  );
  expect(inactive).toContain("<serial>vw-data-1</serial>");
  expect((await up("tuned", guest("tuned", [data(first)]))).step).toBe("same");

  const running = (await domainOf(created.id)).id;
  const live = await up("tuned", guest("tuned", [data(second)]));
  expect(live.log).toContain("disks: vda iotune changed [live]");
  expect((await domainOf(created.id)).id).toBe(running);
  for (const flags of [0, DomainXMLFlags.INACTIVE]) {
    const xml = await xmlOf(created.id, flags);
    expect(xml).toContain(`<read_bytes_sec>${4 * MiB}</read_bytes_sec>`);
    expect(xml).toContain("<total_iops_sec>300</total_iops_sec>");
    expect(xml).not.toContain("<total_bytes_sec>");
  }
  expect((live.outputs.disks as DomainDisk[])[0]!.iotune).toEqual(second);
  expect((await up("tuned", guest("tuned", [data(second)]))).step).toBe("same");

  const restarted = await up("tuned", guest("tuned", [data(second, "writeback")]));
  expect(restarted.log).toContain("disks: vda changed [restart]");
  expect((await domainOf(created.id)).id).not.toBe(running);
  expect((restarted.outputs.disks as DomainDisk[])[0]).toMatchObject(data(second, "writeback"));

  expect(await engine.refresh()).toEqual([expect.objectContaining({ changed: false })]);
  const props = resourceInputs("Domain", "got", {}, virtwire.urn("Domain", "got"));
  const got = await engine.get(DOMAIN, "got", created.id, props);
  expect(got.outputs.disks).toEqual(restarted.outputs.disks);
  const changes = Date.now() - started;
  console.log(
    `tuned disk guest: up and booted ${booted} ms; the checks and four ups ${changes} ms`,
  );
});

it("defines a loop device, a shared image, a WWN and boot orders shut off, and refuses what QEMU would", async () => {
  const backing = join(scratch, "loop.raw");
  await writeSparseFile(backing, 8 * MiB, []);
  const loop = execFileSync("losetup", ["--find", "--show", backing], { encoding: "utf8" }).trim();
  try {
    const shared = join(scratch, "shared.raw");
    await writeSparseFile(shared, 8 * MiB, []);
    const disks: DomainDisk[] = [
      { block: loop, bootOrder: 2, cache: "directsync", io: "native" },
      { file: shared, format: "raw", shareable: true, bootOrder: 1 },
      { file: shared, format: "raw", shareable: true, bus: "scsi", wwn: "5000c50015ea71ac" },
    ];
    const args = guest("defined", disks, {
      running: false,
      kernel: undefined,
      initrd: undefined,
      cmdline: undefined,
    });
    const created = await up("defined", args);
    const inactive = await xmlOf(created.id, DomainXMLFlags.INACTIVE);
    expect(inactive).toContain(`<disk type='block' device='disk'>`);
    expect(inactive).toContain(`<source dev='${loop}'/>`);
    expect(inactive).toMatch(/<boot order='1'\/>[\s\S]*<shareable\/>/);
    expect(inactive).toContain("<wwn>5000c50015ea71ac</wwn>");
    expect(created.outputs.disks).toEqual([
      expect.objectContaining({ ...disks[0], target: "vda" }),
      expect.objectContaining({ ...disks[1], target: "vdb" }),
      expect.objectContaining({ ...disks[2], target: "sda" }),
    ]);
    expect((await up("defined", args)).step).toBe("same");
    expect(await engine.refresh()).toEqual([expect.objectContaining({ changed: false })]);

    const refused = (disk: DomainDisk, extra: Partial<DomainInputs> = {}) =>
      preview("refused", guest("refused", [disk], { running: false, ...extra }));
    expect(await refused({ file: shared, io: "native" })).toMatch(
      /disks\[0\]\.io native needs cache none or directsync/,
    );
    expect(await refused({ file: shared, wwn: "5000c50015ea71ac" })).toMatch(
      /disks\[0\]\.wwn: only disks on bus scsi or ide/,
    );
    expect(await refused({ file: shared, bootOrder: 1 }, { boot: ["hd"] })).toMatch(
      /disks\[0\]\.bootOrder: a disk's boot order and the domain's boot list cannot be used together/,
    );
    await engine.destroy();
  } finally {
    execFileSync("losetup", ["--detach", loop]);
  }
});
