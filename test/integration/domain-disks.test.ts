/**
 * A Domain's disk settings through the real plugin against the test bed: the tiny guest boots
 * with a tuned data disk (cache, io, discard, detectZeroes, serial, an I/O thread, I/O limits), reads back with
 * no diff, takes new I/O limits live (the same QEMU process, live and config XML both changed)
 * and a new cache mode with a restart; refresh and get() read what was given. Its second disk is
 * an NBD export that qemu-nbd serves from a file on 127.0.0.1 (in the daemon's namespace), which QEMU
 * opens at each start. iSCSI and RBD disks, authenticated by a libvirt secret made for the test
 * (by usage and by UUID), are defined and read back (the test bed has neither server). A shut-off domain
 * holds a loop device as a block disk, a shared raw image, a SCSI disk with a WWN and per-disk boot
 * orders; impossible combinations are refused at preview, naming the property.
 */
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes, randomInt, randomUUID } from "node:crypto";
import { join } from "node:path";
import { DomainXMLFlags, parseUuid } from "../../rpc";
import type { RemoteNonnullSecret } from "../../rpc";
import type { DomainDisk, DomainInputs } from "../../resources/kit/generated/types";
import { GUEST_CMDLINE, GUEST_INITRD, GUEST_KERNEL, waitForConsole } from "../support/guest";
import { PropertyMap } from "../support/pulumi-wire";
import { writeSparseFile } from "../support/sparse-file";
import { uniqueName } from "../support/testbed";
import { resourceInputs, virtwireType } from "../support/virtwire-engine";
import { useDomainBed } from "../support/domain-bed";

const DOMAIN = virtwireType("Domain");
const MiB = 1024 * 1024;

jest.setTimeout(180_000);

const bed = useDomainBed("disks");

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
    console: { type: "file", path: join(bed.scratch, `${name}.log`) },
    shutdownTimeout: 5,
    disks,
    ...extra,
  }) as DomainInputs;

async function up(name: string, args: DomainInputs) {
  const printed = bed.virtwire.plugin.mark();
  const step = await bed.engine.up(
    DOMAIN,
    name,
    resourceInputs("Domain", name, args as PropertyMap),
  );
  return { ...step, outputs: step.outputs as Record<string, unknown>, log: printed() };
}

const preview = (name: string, args: DomainInputs) =>
  bed.engine.preview(DOMAIN, name, resourceInputs("Domain", name, args as PropertyMap)).then(
    () => "accepted",
    (error: Error) => error.message,
  );

async function domainOf(id: string) {
  return (await bed.lv.DomainLookupByUUID({ uuid: parseUuid(id) })).dom;
}

async function xmlOf(id: string, flags: number): Promise<string> {
  return (await bed.lv.DomainGetXMLDesc({ dom: await domainOf(id), flags })).xml;
}

/** A command in the daemon's network namespace (libvirt 11 has one of its own), else in ours. */
function inDaemonNetns(command: string[]): [string, string[]] {
  const netns = process.env.VIRTWIRE_DAEMON_NETNS;
  const full = netns ? ["ip", "netns", "exec", netns, ...command] : command;
  return [full[0]!, full.slice(1)];
}

/**
 * qemu-nbd serving `file` as export `data` on 127.0.0.1:`port`, where the daemon's QEMU reaches
 * it, to any number of clients in turn (`ip netns exec` becomes qemu-nbd: its pid is the server's).
 */
async function serveNbd(file: string, port: number): Promise<ChildProcess> {
  const args = ["-f", "raw", "-x", "data", "-b", "127.0.0.1", "-p", String(port), "-t", "-e", "4"];
  const server = spawn(...inDaemonNetns(["qemu-nbd", ...args, file]), { stdio: "ignore" });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ss = inDaemonNetns(["ss", "-Htln", `sport = :${port}`]);
    const listening = execFileSync(ss[0], ss[1], { encoding: "utf8" });
    if (listening.trim()) return server;
    if (Date.now() > deadline || server.exitCode !== null) {
      server.kill();
      throw new Error(`qemu-nbd did not listen on 127.0.0.1:${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

it("boots with a tuned disk and an NBD disk, changes I/O limits live and the cache with a restart", async () => {
  const image = join(bed.scratch, "data.raw");
  await writeSparseFile(image, 16 * MiB, []);
  const exported = join(bed.scratch, "nbd.raw");
  await writeSparseFile(exported, 8 * MiB, []);
  const port = randomInt(20000, 30000);
  const server = await serveNbd(exported, port);
  try {
    await tunedAndNbd(image, port);
  } finally {
    server.kill();
  }
});

async function tunedAndNbd(image: string, port: number) {
  const nbd: DomainDisk = {
    network: { protocol: "nbd", name: "data", hosts: [{ name: "127.0.0.1", port }] },
    format: "raw",
  };
  const data = (iotune: DomainDisk["iotune"], cache: DomainDisk["cache"] = "none"): DomainDisk => ({
    file: image,
    format: "raw",
    cache,
    io: cache === "none" ? "native" : "threads",
    discard: "unmap",
    detectZeroes: "unmap",
    serial: "vw-data-1",
    iothread: 1,
    iotune,
  });
  const first = { totalBytesSec: 8 * MiB, totalBytesSecMax: 16 * MiB, readIopsSec: 400 };
  const second = { readBytesSec: 4 * MiB, writeBytesSec: 2 * MiB, totalIopsSec: 300 };
  let started = Date.now();
  const created = await up("tuned", guest("tuned", [data(first), nbd], { iothreads: 1 }));
  expect(created.step).toBe("create");
  await waitForConsole(join(bed.scratch, "tuned.log"), /VIRTWIRE-GUEST: booted/);
  const booted = Date.now() - started;
  started = Date.now();
  // QEMU opened the export: its size as the running domain sees it.
  const vdb = await bed.lv.DomainGetBlockInfo({
    dom: await domainOf(created.id),
    path: "vdb",
    flags: 0,
  });
  expect(vdb.capacity).toBe(BigInt(8 * MiB));
  expect((created.outputs.disks as DomainDisk[])[1]).toMatchObject({ ...nbd, target: "vdb" });
  expect((created.outputs.disks as DomainDisk[])[0]).toMatchObject({
    ...data(first),
    target: "vda",
  });
  const inactive = await xmlOf(created.id, DomainXMLFlags.INACTIVE);
  expect(inactive).toMatch(
    /<driver name='qemu' type='raw' cache='none' io='native' discard='unmap' iothread='1' detect_zeroes='unmap'\/>/,
  );
  expect(inactive).toContain("<serial>vw-data-1</serial>");
  expect((await up("tuned", guest("tuned", [data(first), nbd], { iothreads: 1 }))).step).toBe(
    "same",
  );

  const running = (await domainOf(created.id)).id;
  const live = await up("tuned", guest("tuned", [data(second), nbd], { iothreads: 1 }));
  expect(live.log).toContain("disks: vda iotune changed [live]");
  expect((await domainOf(created.id)).id).toBe(running);
  for (const flags of [0, DomainXMLFlags.INACTIVE]) {
    const xml = await xmlOf(created.id, flags);
    expect(xml).toContain(`<read_bytes_sec>${4 * MiB}</read_bytes_sec>`);
    expect(xml).toContain("<total_iops_sec>300</total_iops_sec>");
    expect(xml).not.toContain("<total_bytes_sec>");
  }
  expect((live.outputs.disks as DomainDisk[])[0]!.iotune).toEqual(second);
  expect((await up("tuned", guest("tuned", [data(second), nbd], { iothreads: 1 }))).step).toBe(
    "same",
  );

  const restarted = await up(
    "tuned",
    guest("tuned", [data(second, "writeback"), nbd], { iothreads: 1 }),
  );
  expect(restarted.log).toContain("disks: vda changed [restart]");
  expect((await domainOf(created.id)).id).not.toBe(running);
  expect((restarted.outputs.disks as DomainDisk[])[0]).toMatchObject(data(second, "writeback"));

  expect(await bed.engine.refresh()).toEqual([expect.objectContaining({ changed: false })]);
  const props = resourceInputs("Domain", "got", {}, bed.virtwire.urn("Domain", "got"));
  const got = await bed.engine.get(DOMAIN, "got", created.id, props);
  expect(got.outputs.disks).toEqual(restarted.outputs.disks);
  const changes = Date.now() - started;
  console.log(
    `tuned disk guest: up and booted ${booted} ms; the checks and four ups ${changes} ms`,
  );
}

it("defines a loop device, a shared image, a WWN and boot orders shut off, and refuses what QEMU would", async () => {
  const backing = join(bed.scratch, "loop.raw");
  await writeSparseFile(backing, 8 * MiB, []);
  const loop = execFileSync("losetup", ["--find", "--show", backing], { encoding: "utf8" }).trim();
  try {
    const shared = join(bed.scratch, "shared.raw");
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
    expect(await bed.engine.refresh()).toEqual([expect.objectContaining({ changed: false })]);

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
    await bed.engine.destroy();
  } finally {
    execFileSync("losetup", ["--detach", loop]);
  }
});

it("defines iSCSI and RBD disks whose auth names a libvirt secret by usage and by UUID", async () => {
  const usage = uniqueName("disk-iscsi");
  const made: RemoteNonnullSecret[] = [];
  const define = async (xml: string) => {
    const { secret } = await bed.lv.SecretDefineXML({ xml, flags: 0 });
    made.push(secret);
    // A value no one sees: it is never printed, and the domain names the secret only.
    await bed.lv.SecretSetValue({ secret, value: randomBytes(16), flags: 0 });
  };
  try {
    await define(
      `<secret ephemeral='no' private='yes'><usage type='iscsi'><target>${usage}</target></usage></secret>`,
    );
    const uuid = randomUUID();
    await define(
      `<secret ephemeral='no' private='yes'><uuid>${uuid}</uuid><usage type='ceph'><name>${uniqueName("disk-ceph")}</name></usage></secret>`,
    );
    const disks: DomainDisk[] = [
      {
        network: {
          protocol: "iscsi",
          name: "iqn.2024-01.org.example:disk/1",
          hosts: [{ name: "192.0.2.10", port: 3260 }],
          auth: { username: "chap", secretUsage: usage },
        },
      },
      {
        network: {
          protocol: "rbd",
          name: "vms/web",
          hosts: [{ name: "192.0.2.1" }, { name: "192.0.2.2", port: 6789 }],
          auth: { username: "libvirt", secretUuid: uuid },
        },
      },
    ];
    const args = guest("network", disks, { running: false });
    const created = await up("network", args);
    const inactive = await xmlOf(created.id, DomainXMLFlags.INACTIVE);
    expect(inactive).toMatch(/<secret type='iscsi' usage='vwtest-disk-iscsi-/);
    expect(inactive).toContain(`<secret type='ceph' uuid='${uuid}'/>`);
    expect(created.outputs.disks).toEqual([
      expect.objectContaining({ ...disks[0], target: "vda" }),
      expect.objectContaining({ ...disks[1], target: "vdb" }),
    ]);
    expect((await up("network", args)).step).toBe("same");
    expect(await bed.engine.refresh()).toEqual([expect.objectContaining({ changed: false })]);
    await bed.engine.destroy();
  } finally {
    for (const secret of made) await bed.lv.SecretUndefine({ secret }).catch(() => undefined);
  }
});
