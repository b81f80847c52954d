// Pool types beyond dir through the real dynamic-provider plugin, on a loop device over a sparse
// file of the test's own: a logical pool (LVM) and a disk pool (a partition table) are built,
// read back with no diff, and their storage deleted on destroy only when virtwire built it;
// netfs and iscsi pools are refused by this machine's kernel and tools, and leave nothing behind.
// Not here: logical volumes (this kernel has no device-mapper), an NFS export (no nfs/nfsd in this
// kernel) and an iSCSI target (no iscsi_tcp/LIO modules).
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Libvirt } from "../../rpc";
import type { PropertyMap } from "../support/pulumi-wire";
import { connectTestbed, uniqueName } from "../support/testbed";
import { VirtwireEngine } from "../support/virtwire-engine";

let virtwire: VirtwireEngine;
let lv: Libvirt;
let dir: string;
let device: string;

/**
 * The pool types whose storage backend the daemon has loaded: libvirt refuses to define a pool
 * without one (INTERNAL_ERROR "missing backend"). The libvirt 11 root got the disk, logical and
 * iscsi backends after its daemon started, and a daemon loads backends only when it starts.
 */
const loaded = new Set<string>();
async function probeBackends() {
  for (const type of ["logical", "disk", "iscsi"]) {
    const name = uniqueName(`probe${type}`);
    const xml = `<pool type='${type}'><name>${name}</name><source><host name='127.0.0.1'/><device path='/dev/null'/></source><target><path>/dev</path></target></pool>`;
    const defined = await lv.StoragePoolDefineXML({ xml, flags: 0 }).catch(() => undefined);
    if (!defined) continue;
    loaded.add(type);
    await lv.StoragePoolUndefine({ pool: defined.pool });
  }
}

/** Whether to skip a test of `type` on this daemon; says why when it does. */
function missing(type: string): boolean {
  if (loaded.has(type)) return false;
  console.log(
    `pool-types: ${type} pool test skipped: this daemon has not loaded the ${type} storage backend (it needs libvirt-daemon-driver-storage-${type} installed before the daemon starts)`,
  );
  return true;
}

const run = (command: string, ...args: string[]) =>
  execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

beforeAll(async () => {
  [virtwire, lv] = await Promise.all([VirtwireEngine.start(), connectTestbed()]);
  await probeBackends();
});

beforeEach(async () => {
  virtwire.reset();
  dir = await mkdtemp(join(tmpdir(), "vwtest-pooltype-"));
  run("truncate", "-s", "64M", join(dir, "disk.img"));
  device = run("losetup", "--find", "--show", join(dir, "disk.img")).trim();
});

afterEach(async () => {
  await virtwire.engine.destroy().catch(() => undefined);
  const left = group();
  if (left) run("vgremove", "-f", left);
  run("losetup", "-d", device);
  await rm(dir, { recursive: true, force: true });
});

afterAll(async () => {
  await virtwire?.close();
  await lv?.close();
});

const pool = (args: Record<string, unknown>) => args as PropertyMap;
/** The device's partition table type; "" when it has none (blkid exits 2). */
const label = () => {
  try {
    return run("blkid", "-p", "-o", "value", "-s", "PTTYPE", device).trim();
  } catch {
    return "";
  }
};
/** The volume group on the device; "" when the device is no physical volume. */
const group = () => {
  try {
    return run("pvs", "--noheadings", "-o", "vg_name", device).trim();
  } catch {
    return "";
  }
};

describe("a logical Pool", () => {
  it("makes its volume group, reads back with no diff, and removes the group it built", async () => {
    if (missing("logical")) return;
    const vg = `vwtest${Math.random().toString(16).slice(2, 8)}`;
    const args = pool({
      type: "logical",
      targetPath: `/dev/${vg}`,
      source: { name: vg, devices: [device], format: "lvm2" },
      deleteTargetOnDestroy: true,
    });
    const created = await virtwire.up("Pool", "lvm", args);
    expect(created.outputs).toMatchObject({ active: true, built: true, source: args.source });
    expect(group()).toBe(vg);
    expect(await virtwire.refresh("lvm")).toBe("same");
    expect((await virtwire.up("Pool", "lvm", args)).step).toBe("same");
    await virtwire.destroy("lvm");
    expect(group()).toBe("");
  });

  it("keeps a volume group that was there before, whatever it is told", async () => {
    if (missing("logical")) return;
    const vg = `vwtest${Math.random().toString(16).slice(2, 8)}`;
    run("vgcreate", vg, device);
    const args = pool({
      type: "logical",
      targetPath: `/dev/${vg}`,
      source: { name: vg, devices: [device] },
      deleteTargetOnDestroy: true,
    });
    const created = await virtwire.up("Pool", "lvm", args);
    expect(created.outputs).toMatchObject({ active: true, built: false });
    await virtwire.destroy("lvm");
    expect(group()).toBe(vg);
  });
});

describe("a disk Pool", () => {
  it("makes a partition table on a blank disk, reads back with no diff, and deletes only that", async () => {
    if (missing("disk")) return;
    const args = pool({
      type: "disk",
      targetPath: "/dev",
      source: { devices: [device], format: "gpt" },
      deleteTargetOnDestroy: true,
    });
    const created = await virtwire.up("Pool", "disk", args);
    expect(created.outputs).toMatchObject({ active: true, built: true });
    expect(created.outputs.capacity).toBeGreaterThan(60 * 1024 ** 2);
    expect(label()).toBe("gpt");
    expect(await virtwire.refresh("disk")).toBe("same");
    expect((await virtwire.up("Pool", "disk", args)).step).toBe("same");
    await virtwire.destroy("disk");
    expect(label()).toBe("");
  });

  it("never wipes a partition table that was there before", async () => {
    if (missing("disk")) return;
    run("parted", "-s", device, "mklabel", "msdos");
    const args = pool({
      type: "disk",
      targetPath: "/dev",
      source: { devices: [device], format: "dos" },
      deleteTargetOnDestroy: true,
    });
    expect((await virtwire.up("Pool", "disk", args)).outputs).toMatchObject({ built: false });
    await virtwire.destroy("disk");
    expect(label()).toBe("dos");
  });
});

describe("netfs and iscsi Pools, which this machine cannot serve", () => {
  // The kernel has no NFS client: mount fails, and the create removes the pool it defined.
  it("fails to start a netfs pool with libvirt's mount error and leaves no pool", async () => {
    const target = join(dir, "mnt");
    const args = pool({
      type: "netfs",
      targetPath: target,
      source: { host: "127.0.0.1", dir: "/srv/export", format: "nfs" },
    });
    const error = await virtwire.up("Pool", "nfs", args).catch((e: Error) => e);
    expect(String(error)).toMatch(/mount/);
    const { pools } = await lv.ConnectListAllStoragePools({ need_results: 1, flags: 0 });
    expect(pools.filter((found) => found.name.startsWith("nfs-"))).toEqual([]);
  });

  it("fails to start an iscsi pool without an initiator and leaves no pool", async () => {
    if (missing("iscsi")) return;
    const args = pool({
      type: "iscsi",
      targetPath: "/dev/disk/by-path",
      source: { host: "127.0.0.1", devices: ["iqn.2024-01.org.example:vwtest"] },
    });
    const error = await virtwire.up("Pool", "san", args).catch((e: Error) => e);
    expect(String(error)).toMatch(/iscsiadm/);
    const { pools } = await lv.ConnectListAllStoragePools({ need_results: 1, flags: 0 });
    expect(pools.filter((found) => found.name.startsWith("san-"))).toEqual([]);
  });
});
