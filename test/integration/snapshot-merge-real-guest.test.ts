/**
 * The merge virtwire does for daemons before 9.0 (resources/domain-snapshot/merge.ts: an active
 * commit of the snapshot's overlay, then a pivot, asked again while libvirt says the job is not
 * ready) under the writes of a real Debian 12 guest booting, not the tiny guest that never touches
 * its disk. The guest boots from a qcow2 overlay of a base image, as a lab's VMs do; the snapshot
 * is taken and merged back while systemd is still starting. The merge must go into the guest's
 * own overlay and leave the base as it was (it once went to the bottom of the chain: into the base
 * every VM shares), and the guest must finish booting on the merged disk, shut down cleanly,
 * leave an image `qemu-img check` finds no error in, and boot again without a file-system error.
 * The base is a copy of the test bed's Debian image, so a merge gone wrong harms only this test.
 * Runs on both daemons (11.3 is where the pivot came early).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DomainState, Libvirt, RemoteNonnullDomain, RemoteNonnullStoragePool } from "../../rpc";
import { removeFiles } from "../../resources/domain-snapshot/files";
import { domainSnapshotHandlers as handlers } from "../../resources/domain-snapshot/handlers";
import { mergeAndForget } from "../../resources/domain-snapshot/merge";
import { readDomainDisks, readSnapshotXml } from "../../resources/domain-snapshot/xml";
import { removeDomain } from "../../resources/domain/removal";
import { fillDefaults } from "../../resources/kit/check";
import type { DomainSnapshotInputs } from "../../resources/kit/generated/types";
import {
  DEBIAN_CMDLINE,
  DEBIAN_INITRD,
  DEBIAN_KERNEL,
  DEBIAN_QCOW2,
  waitForConsole,
} from "../support/guest";
import { waitFor } from "../support/promises";
import { recordingContext } from "../support/recording-context";
import { connectTestbed, dirPoolXml, removePool, uniqueName } from "../support/testbed";

jest.setTimeout(900_000);

/** A TCG Debian guest reaches its login prompt in 1–2 minutes; a busy machine takes longer. */
const BOOT_MS = 420_000;

let lv: Libvirt;
let scratch: string;
let pool: RemoteNonnullStoragePool;
let dom: RemoteNonnullDomain | undefined;
const { ctx, lines } = recordingContext(() => lv);

beforeAll(async () => {
  lv = await connectTestbed();
  scratch = await mkdtemp(join(tmpdir(), "vwtest-merge-debian-"));
  ({ pool } = await lv.StoragePoolCreateXML({
    xml: dirPoolXml(uniqueName("mergedeb"), scratch),
    flags: 0,
  }));
});

afterAll(async () => {
  if (dom) await removeDomain(lv, dom).catch(() => undefined);
  if (pool) await removePool(lv, pool);
  await rm(scratch, { recursive: true, force: true });
  await lv?.close();
});

const sha256 = async (path: string) => {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
};

/** The Debian guest, direct-booted from a qcow2 overlay of `base`, defined. */
async function debianGuest(name: string, base: string, serialLog: string) {
  const { vol } = await lv.StorageVolCreateXML({
    pool,
    xml: `<volume><name>${name}.qcow2</name><capacity unit='GiB'>3</capacity><target><format type='qcow2'/></target><backingStore><path>${base}</path><format type='qcow2'/></backingStore></volume>`,
    flags: 0,
  });
  const { name: disk } = await lv.StorageVolGetPath({ vol });
  const xml = `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>512</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>${DEBIAN_KERNEL}</kernel><initrd>${DEBIAN_INITRD}</initrd><cmdline>${DEBIAN_CMDLINE}</cmdline></os>
  <features><acpi/></features>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${disk}'/><target dev='vda' bus='virtio'/></disk>
    <serial type='file'><source path='${serialLog}'/></serial>
  </devices>
</domain>`;
  ({ dom } = await lv.DomainDefineXML({ xml }));
  return { dom: dom!, disk };
}

async function shutDown(dom: RemoteNonnullDomain) {
  await lv.DomainShutdown({ dom });
  await waitFor(
    `${dom.name} to shut down`,
    async () =>
      (await lv.DomainGetState({ dom, flags: 0 })).state === DomainState.SHUTOFF || undefined,
    180_000,
  );
}

describe("an external snapshot of a booting Debian guest", () => {
  it("merged back into its own overlay while systemd writes, not into the base: the guest boots on, shuts down clean, and its image checks and boots without error", async () => {
    const name = uniqueName("mergedeb");
    const serialLog = join(scratch, `${name}.log`);
    const base = join(scratch, `${name}-base.qcow2`);
    await copyFile(DEBIAN_QCOW2, base);
    const baseBefore = await sha256(base);
    const { dom, disk } = await debianGuest(name, base, serialLog);
    await lv.DomainCreate({ dom });
    // systemd has mounted the root read-write and is starting units: the disk is being written.
    await waitForConsole(serialLog, /Reached target.*(Local File Systems|Basic System)/, BOOT_MS);

    const inputs = fillDefaults("DomainSnapshot", {
      domain: dom.name,
      name: uniqueName("snap"),
      kind: "external",
    }) as DomainSnapshotInputs;
    const { outs } = await handlers.create(inputs, ctx);
    const { snap } = await lv.DomainSnapshotLookupByName({ dom, name: outs.name, flags: 0 });
    const facts = readSnapshotXml((await lv.DomainSnapshotGetXMLDesc({ snap, flags: 0 })).xml);
    await mergeAndForget(lv, dom, snap, facts, ctx);
    await removeFiles(lv, outs.overlays, { ctx, host: undefined });
    expect(lines).toContain(`virtwire: merged the overlay of disk vda of domain ${name} back`);
    const disks = readDomainDisks((await lv.DomainGetXMLDesc({ dom, flags: 0 })).xml);
    expect(disks[0]!.path).toBe(disk);
    expect(existsSync(outs.overlays[0]!)).toBe(false);
    expect(await sha256(base)).toBe(baseBefore);

    await waitForConsole(serialLog, /login:/, BOOT_MS);
    await shutDown(dom);
    const check = execFileSync("qemu-img", ["check", "-U", disk], { encoding: "utf8" });
    expect(check).toContain("No errors were found on the image.");

    await lv.DomainCreate({ dom });
    await waitForConsole(serialLog, /login:/, BOOT_MS);
    const secondBoot = await readFile(serialLog, "utf8");
    expect(secondBoot).not.toMatch(/EXT4-fs error|I\/O error|recovery complete/);
    await lv.DomainDestroy({ dom });
  });
});
