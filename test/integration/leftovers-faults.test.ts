/**
 * Faults in the middle of creating a lab of three VMs, each against a private libvirtd of the
 * test's own (test/support/private-daemon.ts); the shared test bed daemon is never touched. The
 * daemon is frozen (SIGSTOP, longer than keepalive's 30 s) or killed (SIGKILL) and started again
 * the moment it launches the first QEMU. Each test ends after one recovery `up` of the same program
 * with every object of the daemon in the state and every state entry in the daemon; nothing is
 * removed by hand, no virsh is run.
 *
 * The lab: a dir pool, a qcow2 base volume, an overlay per VM, and three domains booting the tiny
 * guest (TCG, no network interface: a session daemon has none to give) from their overlay, whose
 * write lock QEMU holds while a domain runs.
 */
import { join } from "node:path";
import { ConnectionCache } from "../../provider/connections";
import { mismatches as daemonMismatches } from "../support/daemon-objects";
import { GUEST_CMDLINE, GUEST_INITRD, GUEST_KERNEL } from "../support/guest";
import { PrivateDaemon } from "../support/private-daemon";
import type { PropertyMap } from "../support/pulumi-wire";
import { VirtwireEngine } from "../support/virtwire-engine";

jest.setTimeout(300_000);

const VMS = ["vm1", "vm2", "vm3"];
const FREEZE_MS = 40_000; // keepalive gives up after 30 s

let daemon: PrivateDaemon;
let virtwire: VirtwireEngine;

afterEach(async () => {
  try {
    daemon?.thaw(); // a test that failed while the daemon was frozen
  } catch {
    // not running
  }
  await virtwire?.close();
  await daemon?.dispose();
});

async function start(): Promise<void> {
  daemon = await PrivateDaemon.start();
  virtwire = await VirtwireEngine.start({ config: { "virtwire:uri": daemon.uri } });
}

/** The lab's pool and volumes, then its three domains at once (settled, not thrown). */
async function upLab(): Promise<PromiseSettledResult<unknown>[]> {
  const pool = (
    await virtwire.up("Pool", "lab", { type: "dir", targetPath: join(daemon.dir, "pool") })
  ).outputs.name as string;
  const base = await virtwire.up("Volume", "base", { pool, capacity: "64MiB", format: "qcow2" });
  const disks = await Promise.all(
    VMS.map((vm) => virtwire.up("Volume", `${vm}-disk`, { pool, baseVolume: { key: base.id } })),
  );
  return Promise.allSettled(
    VMS.map((vm, index) => virtwire.up("Domain", vm, domainArgs(vm, pool, disks[index]!))),
  );
}

function domainArgs(vm: string, pool: string, disk: { outputs: PropertyMap }): PropertyMap {
  return {
    type: "qemu",
    memory: "128MiB",
    kernel: GUEST_KERNEL,
    initrd: GUEST_INITRD,
    cmdline: GUEST_CMDLINE,
    disks: [{ volume: { pool, name: disk.outputs.name as string } }],
    console: { type: "file", path: join(daemon.dir, `${vm}.console`) },
    shutdownTimeout: 5,
  };
}

/** Resolves the moment the private daemon has launched a guest's QEMU (a start is under way). */
async function firstGuest(timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (daemon.qemuPids("guests").length === 0) {
    if (Date.now() > deadline) throw new Error("the private daemon launched no QEMU");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Objects of the daemon not in the state, and state entries without an object. */
function mismatches() {
  const ids = virtwire.engine.state.resources
    .filter((entry) => entry.type.startsWith("pulumi-nodejs:dynamic/virtwire:"))
    .map((entry) => entry.id);
  return daemonMismatches(daemon.uri, ids);
}

const reasons = (results: PromiseSettledResult<unknown>[]) =>
  results.flatMap((result) => (result.status === "rejected" ? [String(result.reason)] : []));

describe("the provider's connections", () => {
  it("are replaced when the daemon's restart closed them", async () => {
    daemon = await PrivateDaemon.start();
    const cache = new ConnectionCache();
    try {
      const first = await cache.get({ name: "default", uri: daemon.uri });
      await daemon.restart("SIGKILL");
      await expect(first.ConnectGetLibVersion()).rejects.toThrow();
      const second = await cache.get({ name: "default", uri: daemon.uri });
      expect(second).not.toBe(first);
      await expect(second.ConnectGetLibVersion()).resolves.toBeDefined();
    } finally {
      await cache.closeAll();
    }
  });
});

describe("a lab whose creation a daemon fault interrupts", () => {
  it("frozen for 40 s: the creates fail by keepalive, clean up after the thaw, and one up makes the lab", async () => {
    await start();
    const frozen = firstGuest().then(() => {
      daemon.freeze();
      const started = Date.now();
      return new Promise<number>((resolve) =>
        setTimeout(() => {
          daemon.thaw();
          resolve(Date.now() - started);
        }, FREEZE_MS),
      );
    });
    const started = Date.now();
    const failed = reasons(await upLab());
    console.log(`frozen: the up failed after ${Date.now() - started} ms (${failed.length} of 3)`);
    await frozen;
    expect(failed.length).toBeGreaterThan(0);
    for (const reason of failed) expect(reason).toContain("the libvirt daemon stopped answering");
    // The clean-up reconnected once the daemon answered again: nothing is reported left behind.
    for (const reason of failed) expect(reason).not.toContain("Left behind");
    // What remains is only what the daemon did for requests it got before it froze and carried
    // out after the thaw, when their client had given up.
    const before = await mismatches();
    console.log(`frozen: left in the daemon after the thaw: ${before.notInState.join(", ")}`);

    const recovered = Date.now();
    const printed = virtwire.plugin.mark();
    expect(reasons(await upLab())).toEqual([]);
    console.log(`frozen: the recovery up took ${Date.now() - recovered} ms`);
    for (const leftover of before.notInState) {
      expect(printed()).toContain(`${leftover}: removed, left by a failed earlier create`);
    }
    expect(await mismatches()).toEqual({ notInState: [], notInDaemon: [] });
  });

  it("killed and restarted: the clean-up cannot reach it, and one up removes the leftovers and makes the lab", async () => {
    await start();
    const killed = firstGuest().then(() => daemon.stop("SIGKILL"));
    const failed = reasons(await upLab());
    await killed;
    expect(failed.length).toBeGreaterThan(0);
    const leftBehind = failed.filter((reason) => reason.includes("Left behind: domain"));
    expect(leftBehind.length).toBeGreaterThan(0);
    for (const reason of leftBehind) {
      expect(reason).toContain("The next `pulumi up` removes it (it carries this resource's mark)");
      // The advice names the daemon: virsh's own default URI is another one for most users.
      const virsh = `virsh -c '${daemon.uri}'`;
      expect(reason).toContain(`${virsh} destroy `);
      expect(reason).toMatch(
        / destroy (\S+) \(if it runs\), then virsh -c '[^']+' undefine --nvram \1/,
      );
    }
    await daemon.restart("SIGKILL");
    const before = await mismatches();
    console.log(`killed: left in the daemon after the restart: ${before.notInState.join(", ")}`);
    expect(before.notInState.length).toBeGreaterThan(0);

    const recovered = Date.now();
    const printed = virtwire.plugin.mark();
    expect(reasons(await upLab())).toEqual([]);
    console.log(`killed: the recovery up took ${Date.now() - recovered} ms`);
    for (const leftover of before.notInState) {
      expect(printed()).toContain(`${leftover}: removed, left by a failed earlier create`);
    }
    expect(await mismatches()).toEqual({ notInState: [], notInDaemon: [] });
  });
});
