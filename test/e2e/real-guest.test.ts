/**
 * Real Debian 12 guests (the test bed's image, with systemd, cloud-init, sshd and the guest agent)
 * through the real Pulumi CLI, issue 11: the tiny busybox guest never touches a disk, so a disk
 * swapped live under a running root filesystem went unseen. test/fixtures/real-guest deploys a
 * DHCP VM (waited for through its lease) and a static-address VM (network-config, waited for
 * through the guest agent), each on a qcow2 overlay of one uploaded base image with its own seed.
 * The test logs in over SSH from inside the namespace, checks what cloud-init applied, then writes
 * a marker file and takes the guests through a live change, a change that needs a restart, a new
 * seed and a new base image: the data stays, the root filesystem stays read-write and error-free,
 * restarts are graceful, and the overlay a guest left behind is clean and untouched afterwards.
 * The steps run in order and share one stack; `pulumi destroy` (also after a failure) leaves
 * nothing in libvirt.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Libvirt } from "../../rpc";
import {
  DEBIAN_CMDLINE,
  DEBIAN_INITRD,
  DEBIAN_KERNEL,
  DEBIAN_QCOW2,
  DEBIAN_RAW,
} from "../support/guest";
import { GuestShell } from "../support/guest-ssh";
import { REPO_ROOT } from "../support/program-dir";
import { generateSshKeyPair } from "../support/ssh-keys";
import { connectTestbed, randomSubnet } from "../support/testbed";
import { holdsOpen, imageVariant, inspectOverlay, qemuPid, sha256File } from "./disk-images";
import { inventory } from "./libvirt-inventory";
import { PulumiProject } from "./pulumi-project";
import { sweep } from "./sweep";

const suffix = randomBytes(3).toString("hex");
const prefix = `vwtest-realguest-${suffix}`;
const subnet = randomSubnet();
const staticAddress = `${subnet}.50`;
const poolPath = `/var/lib/libvirt/images/${prefix}`;
const marker = `marker-${randomBytes(6).toString("hex")}`;
const MARKER_FILE = "/root/virtwire-marker";
const VARIANT_FILE = "/etc/virtwire-image-variant";
const variant = `variant ${suffix}\n`;
/** The I/O limit put on the dhcp guest's running disk in step (a), lifted in (b). */
const IOTUNE_BYTES = 2 * 1024 * 1024;
/** Boot to SSH and cloud-init done, under TCG on a busy 2-core machine. */
const GUEST_READY_MS = 480_000;
const STEP_MS = 1_200_000;
const VMS = ["dhcp", "static"] as const;
type Vm = (typeof VMS)[number];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const keys = generateSshKeyPair("ed25519", { comment: prefix });
const timings: string[] = [];

describe("real Debian guests with the Pulumi CLI", () => {
  let project: PulumiProject;
  let lv: Libvirt;
  let scratch: string;
  let destroyed = false;
  const shells = new Map<Vm, GuestShell>();

  const outputs = async () =>
    (await project.outputs()) as Record<
      "addresses" | "domains" | "overlays",
      Record<Vm, string>
    > & {
      basePath: string;
      interfaces: Record<Vm, { addresses: string[] }[]>;
    };
  /** Runs `pulumi up`; returns virtwire's log lines about the domains (how each change applied). */
  const up = async (what: string): Promise<string[]> => {
    const { seconds, stdout } = await project.pulumi("up", "--yes", "--skip-preview");
    const lines = [...new Set(stdout.match(/virtwire: domain [^\n]*/g) ?? [])];
    timings.push(`${what}: ${seconds.toFixed(0)} s`, ...lines.map((line) => `  ${line}`));
    return lines;
  };
  /** The log says the domain was shut down gracefully and started again, and nothing ran live. */
  const expectGracefulRestart = (log: string[], vm: Vm) => {
    const own = log.filter((line) => line.includes(`${prefix}-${vm}-`));
    expect(own).toContainEqual(expect.stringMatching(/stopped \(graceful\) to restart it/));
    expect(own.join("\n")).not.toMatch(/\[live\]/);
  };
  /** libvirt's id of the running domain: a new one for every start of QEMU. */
  const runIds = async () => {
    const { domains } = await outputs();
    const id = async (vm: Vm) => (await lv.DomainLookupByName({ name: domains[vm] })).dom.id;
    return { dhcp: await id("dhcp"), static: await id("static") };
  };
  const liveXml = async (vm: Vm) => {
    const { dom } = await lv.DomainLookupByName({ name: (await outputs()).domains[vm] });
    return (await lv.DomainGetXMLDesc({ dom, flags: 0 })).xml;
  };
  const memoryKiB = async (vm: Vm) => {
    const { dom } = await lv.DomainLookupByName({ name: (await outputs()).domains[vm] });
    return (await lv.DomainGetInfo({ dom })).memory;
  };
  const consoleTail = (vm: Vm) => {
    const log = path.join(scratch, "console", `${vm}.log`);
    return fs.existsSync(log) ? fs.readFileSync(log, "utf8").slice(-3000) : "(no console log)";
  };

  /** Logs in again (after a restart) and waits until cloud-init has finished. */
  const ready = async (vm: Vm): Promise<GuestShell> => {
    shells.get(vm)?.close();
    const host = (await outputs()).addresses[vm];
    const started = Date.now();
    const shell = await GuestShell.connect(
      { host, user: "virtwire", privateKey: keys.private },
      GUEST_READY_MS,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nconsole of ${vm}:\n${consoleTail(vm)}`);
    });
    shells.set(vm, shell);
    await shell.run("cloud-init status --wait");
    timings.push(
      `  ${vm}: SSH and cloud-init done ${((Date.now() - started) / 1000).toFixed(0)} s after up`,
    );
    return shell;
  };
  const all = <T>(each: (vm: Vm) => Promise<T>) => Promise.all(VMS.map(each));
  const bootId = (vm: Vm) => shells.get(vm)!.output("cat /proc/sys/kernel/random/boot_id");

  /** What every step must leave intact: the root filesystem and, unless replaced, the marker. */
  const expectHealthyRoot = async (vm: Vm, restarted: boolean) => {
    const shell = shells.get(vm)!;
    expect(await shell.output("grep ' / ' /proc/mounts")).toMatch(/^\/dev\/vda \/ ext4 rw[, ]/);
    const kernelLog = await shell.output("sudo dmesg");
    expect(kernelLog).not.toMatch(
      /EXT4-fs error|I\/O error, dev vda|Remounting filesystem read-only/,
    );
    // After a restart: the journal needed no replay, so the guest shut down cleanly before.
    if (restarted) expect(kernelLog).not.toMatch(/EXT4-fs \(vda\): recovery complete/);
    expect(await shell.output("cloud-init status")).toMatch(/status: done/);
  };
  const expectMarker = async (vm: Vm) =>
    expect(await shells.get(vm)!.output(`sudo cat ${MARKER_FILE}`)).toBe(marker);
  /** Each guest's boot and QEMU run, to compare before and after a step. */
  const lifeSigns = async () => ({
    boots: { dhcp: await bootId("dhcp"), static: await bootId("static") },
    runs: await runIds(),
  });
  /** Only the static guest booted again, in a new QEMU process; its data and root are intact. */
  const expectOnlyStaticRestarted = async (before: Awaited<ReturnType<typeof lifeSigns>>) => {
    await ready("static");
    expect(await bootId("static")).not.toBe(before.boots.static);
    expect(await bootId("dhcp")).toBe(before.boots.dhcp);
    const runsAfter = await runIds();
    expect(runsAfter.static).not.toBe(before.runs.static);
    expect(runsAfter.dhcp).toBe(before.runs.dhcp);
    await expectMarker("static");
    await expectHealthyRoot("static", true);
  };

  beforeAll(async () => {
    for (const file of [DEBIAN_QCOW2, DEBIAN_RAW, DEBIAN_KERNEL, DEBIAN_INITRD]) {
      if (!fs.existsSync(file))
        throw new Error(`${file} is missing; run: bash scripts/testbed.sh debian`);
    }
    lv = await connectTestbed();
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
    fs.mkdirSync(path.join(scratch, "console"));
    project = await PulumiProject.create(path.join(REPO_ROOT, "test/fixtures/real-guest"), prefix, {
      commandTimeoutMs: STEP_MS,
    });
    const settings: Record<string, string> = {
      "guest:prefix": prefix,
      "guest:subnet": subnet,
      "guest:poolPath": poolPath,
      "guest:image": DEBIAN_QCOW2,
      "guest:kernel": DEBIAN_KERNEL,
      "guest:initrd": DEBIAN_INITRD,
      "guest:cmdline": DEBIAN_CMDLINE,
      "guest:sshKey": keys.public.trim(),
      "guest:consoleDir": path.join(scratch, "console"),
      "guest:memory": "1GiB",
      "guest:maxMemory": "1GiB",
    };
    for (const [key, value] of Object.entries(settings)) await project.setConfig(key, value);
  });

  afterAll(async () => {
    for (const shell of shells.values()) shell.close();
    // After a failure midway: take the stack down, then remove whatever it still left behind.
    if (project && !destroyed) {
      await project.pulumi("destroy", "--yes", "--skip-preview").catch((error: Error) => {
        console.log(`pulumi destroy after a failure: ${error.message.slice(0, 2000)}`);
      });
    }
    const left = lv ? await sweep(lv, prefix, poolPath) : [];
    project?.remove();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
    await lv?.close();
    console.log(`real-guest e2e timings:\n  ${timings.join("\n  ")}`);
    expect(left).toEqual([]);
  });

  it(
    "`pulumi up` boots both guests: the DHCP one gets a lease, the static one reports its address through the agent",
    async () => {
      await up("up (base upload, 2 VMs to addresses)");
      const { addresses, domains } = await outputs();
      expect(addresses.static).toBe(staticAddress);
      expect(addresses.dhcp).toMatch(new RegExp(`^${subnet.replace(/\./g, "\\.")}\\.1\\d\\d$`));
      const live = await inventory(lv);
      expect(live.domains).toEqual(expect.arrayContaining(Object.values(domains)));
    },
    STEP_MS,
  );

  it(
    "cloud-init applied each seed: host name, key login, runcmd, write_files, the static address",
    async () => {
      await all(ready);
      for (const vm of VMS) {
        const shell = shells.get(vm)!;
        expect(await shell.output("hostname")).toBe(`${prefix}-${vm}`);
        expect(await shell.output("id -un")).toBe("virtwire");
        expect(await shell.output("cat /var/tmp/virtwire-runcmd")).toBe(`runcmd ${vm} 1`);
        expect(await shell.output("cat /etc/virtwire-test/seed")).toBe("seed 1");
        expect(await shell.output("cat /etc/virtwire-image")).toMatch(/^virtwire debian-12 /);
        expect(await shell.output("cloud-init status")).toMatch(/status: done/);
        // The disk's serial and discard (disks[0].serial, discard) as the guest's kernel sees them.
        expect(await shell.output("cat /sys/block/vda/serial")).toBe(`vw-${vm}`);
        const discard = await shell.output("cat /sys/block/vda/queue/discard_max_bytes");
        expect(Number(discard)).toBeGreaterThan(0);
      }
      expect(await shells.get("static")!.output("ip -4 -o addr show dev eth0")).toContain(
        `inet ${staticAddress}/24`,
      );
      // Written and synced before the data-safety steps below.
      await all((vm) =>
        shells.get(vm)!.output(`echo ${marker} | sudo tee ${MARKER_FILE} >/dev/null && sync`),
      );
    },
    STEP_MS,
  );

  it(
    "(a) a memory change within maxMemory and a disk's I/O limit are applied live: same boot, data intact",
    async () => {
      const before = await all(bootId);
      const runs = await runIds();
      for (const vm of VMS)
        await project.setConfig(`guest:vms.${vm}.memory`, "768MiB", { path: true });
      await project.setConfig("guest:vms.dhcp.iotuneBytes", String(IOTUNE_BYTES), { path: true });
      const log = await up("up (a: memory 1 GiB → 768 MiB, dhcp's disk limited; live)");
      expect(log.join("\n")).not.toMatch(/\[restart\]|stopped/);
      expect(log).toContainEqual(
        expect.stringMatching(`${prefix}-dhcp-.*disks: vda iotune changed \\[live\\]`),
      );
      expect(await liveXml("dhcp")).toContain(`<total_bytes_sec>${IOTUNE_BYTES}</total_bytes_sec>`);
      // The running guest's writes now take their time: 8 MiB at 2 MiB/s, direct to the disk.
      const ms = await shells
        .get("dhcp")!
        .output(
          "sudo sh -c 's=$(date +%s%N); dd if=/dev/urandom of=/var/tmp/vw-io bs=1M count=8 oflag=direct status=none; e=$(date +%s%N); rm /var/tmp/vw-io; echo $(((e-s)/1000000))'",
        );
      timings.push(`  dhcp: 8 MiB written in ${ms} ms under the ${IOTUNE_BYTES} B/s limit`);
      expect(Number(ms)).toBeGreaterThan(2_500);
      for (const vm of VMS) {
        expect(log).toContainEqual(expect.stringMatching(`${prefix}-${vm}-.*\\[live\\]`));
        // The guest hands the memory to the balloon at its own pace.
        const deadline = Date.now() + 120_000;
        while ((await memoryKiB(vm)) !== 768n * 1024n && Date.now() < deadline) await sleep(2_000);
        expect(await memoryKiB(vm)).toBe(768n * 1024n);
      }
      expect(await all(bootId)).toEqual(before);
      expect(await runIds()).toEqual(runs);
      for (const vm of VMS) {
        await expectMarker(vm);
        await expectHealthyRoot(vm, false);
      }
    },
    STEP_MS,
  );

  it(
    "(b) a kernel command line change restarts only that guest, gracefully: data intact",
    async () => {
      const before = await lifeSigns();
      await project.setConfig("guest:vms.static.cmdlineExtra", "virtwire.step=b", { path: true });
      // The limit of (a) lifted from the running dhcp guest in the same up (live, no restart).
      await project.setConfig("guest:vms.dhcp.iotuneBytes", "0", { path: true });
      const log = await up("up (b: cmdline of static, restart; dhcp's limit lifted, live)");
      expectGracefulRestart(log, "static");
      expect(log).toContainEqual(
        expect.stringMatching(`${prefix}-dhcp-.*disks: vda iotune changed \\[live\\]`),
      );
      expect(await liveXml("dhcp")).not.toContain("<iotune>");
      await expectOnlyStaticRestarted(before);
      await expectHealthyRoot("dhcp", false);
      expect(await shells.get("static")!.output("cat /proc/cmdline")).toContain("virtwire.step=b");
    },
    STEP_MS,
  );

  it(
    "(c) a new seed restarts only that guest and cloud-init applies it: data intact",
    async () => {
      const before = await lifeSigns();
      await project.setConfig("guest:vms.static.seed", "2", { path: true });
      const planned = await project.plannedChanges();
      expect(planned.filter((step) => !step.includes(`${prefix}-static`))).toEqual([]);
      expectGracefulRestart(await up("up (c: new seed for static, restart)"), "static");
      await expectOnlyStaticRestarted(before);
      const shell = shells.get("static")!;
      expect(await shell.output("cat /etc/virtwire-test/seed")).toBe("seed 2");
      expect(await shell.output("cat /var/tmp/virtwire-runcmd")).toBe("runcmd static 2");
    },
    STEP_MS,
  );

  it(
    "(d) a new base image boots both guests from new overlays; the old overlays were let go cleanly and are never written again",
    async () => {
      const before = await outputs();
      const runs = await runIds();
      // Keep the old base and overlays (hard links: same inodes) past their deletion from the pool.
      const kept = path.join(scratch, "kept");
      fs.mkdirSync(kept);
      const keep = (file: string, name: string) => {
        fs.linkSync(file, path.join(kept, name));
        return path.join(kept, name);
      };
      const oldBase = keep(before.basePath, "base.qcow2");
      const oldOverlays = {
        dhcp: keep(before.overlays.dhcp, "dhcp.qcow2"),
        static: keep(before.overlays.static, "static.qcow2"),
      };
      const newImage = path.join(scratch, "debian-variant.raw");
      await imageVariant(DEBIAN_RAW, newImage, VARIANT_FILE, variant);
      await project.setConfig("guest:image", newImage);
      const log = await up("up (d: new base image, new overlays, restart both)");
      for (const vm of VMS) expectGracefulRestart(log, vm);
      const after = await outputs();
      const runsAfter = await runIds();
      for (const vm of VMS) {
        expect(runsAfter[vm]).not.toBe(runs[vm]);
        expect(after.overlays[vm]).not.toBe(before.overlays[vm]);
        expect(fs.existsSync(before.overlays[vm])).toBe(false); // deleted from the pool
        expect(holdsOpen(qemuPid(after.domains[vm]), oldOverlays[vm])).toBe(false);
      }
      const detached = {
        dhcp: sha256File(oldOverlays.dhcp),
        static: sha256File(oldOverlays.static),
      };
      await all(ready);
      for (const vm of VMS) {
        const shell = shells.get(vm)!;
        expect(`${await shell.output(`cat ${VARIANT_FILE}`)}\n`).toBe(variant);
        expect((await shell.run(`sudo test -e ${MARKER_FILE}`)).code).toBe(1); // a fresh disk
        await expectHealthyRoot(vm, true);
      }
      expect(await shells.get("static")!.output("ip -4 -o addr show dev eth0")).toContain(
        `inet ${staticAddress}/24`,
      );
      // The re-imaged DHCP guest asked again with a new identity: only its current lease counts.
      const { addresses, interfaces } = await outputs();
      expect(interfaces.dhcp.flatMap((nic) => nic.addresses)).toEqual([addresses.dhcp]);
      // Minutes later: nothing wrote to the old overlays after the guests let go of them, and the
      // filesystem in each was unmounted cleanly with the marker on it.
      for (const vm of VMS) {
        expect(sha256File(oldOverlays[vm])).toBe(detached[vm]);
        const report = await inspectOverlay(
          oldOverlays[vm],
          { path: oldBase, format: "qcow2" },
          kept,
          MARKER_FILE,
        );
        expect(report).toEqual({
          qcow2Consistent: true,
          state: "clean",
          needsRecovery: false,
          fsckCode: 0,
          file: `${marker}\n`,
        });
      }
    },
    STEP_MS,
  );

  it(
    "`pulumi destroy` leaves nothing of the stack in libvirt",
    async () => {
      for (const shell of shells.values()) shell.close();
      shells.clear();
      const { seconds } = await project.pulumi("destroy", "--yes", "--skip-preview");
      timings.push(`destroy: ${seconds.toFixed(0)} s`);
      destroyed = true;
      const live = await inventory(lv);
      const ours = (names: string[]) => names.filter((name) => name.includes(prefix));
      expect([
        ...ours(live.domains),
        ...ours(live.networks),
        ...ours(live.pools),
        ...ours(live.volumes),
      ]).toEqual([]);
      expect(fs.existsSync(poolPath)).toBe(false);
    },
    STEP_MS,
  );
});
