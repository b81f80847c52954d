/**
 * A Domain under external snapshots, through the real plugin and the engine's step model: a change
 * that redefines and restarts the running domain keeps each disk on its newest overlay (the chain
 * of two snapshots stays whole, and deleting both afterwards merges them back into the volume),
 * and a new source for such a disk is refused at preview, naming the domain, the snapshots and the
 * fix, with nothing changed. The guest is the tiny one on a qcow2 volume.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DomainState, DomainXMLFlags, Libvirt, RemoteNonnullStoragePool } from "../../rpc";
import type { RemoteNonnullDomain } from "../../rpc";
import { readDomainDisks } from "../../resources/domain-snapshot/xml";
import { GUEST_CMDLINE, GUEST_INITRD, GUEST_KERNEL } from "../support/guest";
import { connectTestbed, dirPoolXml, removePool, uniqueName } from "../support/testbed";
import { VirtwireEngine, resourceInputs, virtwireType } from "../support/virtwire-engine";

jest.setTimeout(180_000);

let lv: Libvirt;
let scratch: string;
let pool: RemoteNonnullStoragePool;
let virtwire: VirtwireEngine;

beforeAll(async () => {
  lv = await connectTestbed();
  scratch = await mkdtemp(join(tmpdir(), "vwtest-snapguard-"));
  ({ pool } = await lv.StoragePoolCreateXML({
    xml: dirPoolXml(uniqueName("snapguard"), scratch),
    flags: 0,
  }));
  virtwire = await VirtwireEngine.start();
});

afterAll(async () => {
  await virtwire?.engine.destroy().catch(() => undefined);
  await virtwire?.close();
  if (pool) await removePool(lv, pool);
  await rm(scratch, { recursive: true, force: true });
  await lv?.close();
});

async function qcow2Volume(): Promise<string> {
  const name = `${uniqueName("snapguard")}.qcow2`;
  await lv.StorageVolCreateXML({
    pool,
    xml: `<volume><name>${name}</name><capacity unit='MiB'>16</capacity><target><format type='qcow2'/></target></volume>`,
    flags: 0,
  });
  return name;
}

/** What disk vda writes to (a file or `pool/volume`): live, and in the definition (next boot). */
async function diskFiles(dom: RemoteNonnullDomain) {
  const source = async (flags: number) => {
    const [disk] = readDomainDisks((await lv.DomainGetXMLDesc({ dom, flags })).xml);
    return disk!.volume ? `${disk!.volume.pool}/${disk!.volume.name}` : disk!.path;
  };
  return { live: await source(0), next: await source(DomainXMLFlags.INACTIVE) };
}

it("a restart keeps the disk on its newest external overlay, and a new source for it is refused at preview", async () => {
  const volume = await qcow2Volume();
  const vmArgs = {
    type: "qemu",
    memory: "128MiB",
    kernel: GUEST_KERNEL,
    initrd: GUEST_INITRD,
    cmdline: GUEST_CMDLINE,
    console: { type: "file", path: join(scratch, "vm.console") },
    shutdownTimeout: 0,
    disks: [{ volume: { pool: pool.name, name: volume } }],
  };
  const vm = await virtwire.up("Domain", "vm", vmArgs);
  const domain = String(vm.outputs.name);
  const { dom } = await lv.DomainLookupByName({ name: domain });
  const base = `${pool.name}/${volume}`;

  const first = await virtwire.up("DomainSnapshot", "first", { domain, kind: "external" });
  const second = await virtwire.up("DomainSnapshot", "second", { domain, kind: "external" });
  const top = (second.outputs.overlays as string[])[0]!;
  expect(await diskFiles(dom)).toEqual({ live: top, next: top });

  // A console change restarts the domain: it comes back on the overlay, with the chain below.
  const restarted = { ...vmArgs, console: { type: "file", path: join(scratch, "vm2.console") } };
  const updated = await virtwire.up("Domain", "vm", restarted);
  expect(updated.step).toBe("update");
  expect(updated.outputs.disks).toEqual(vm.outputs.disks);
  const after = (await lv.DomainLookupByName({ name: domain })).dom;
  expect(after.id).not.toBe(dom.id); // a new QEMU process: restarted
  expect((await lv.DomainGetState({ dom, flags: 0 })).state).toBe(DomainState.RUNNING);
  expect(await diskFiles(dom)).toEqual({ live: top, next: top });
  expect((await virtwire.up("Domain", "vm", restarted)).step).toBe("same");

  // A new volume for that disk would leave the overlay: refused at preview, nothing changed.
  const other = await qcow2Volume();
  const reimaged = { ...restarted, disks: [{ volume: { pool: pool.name, name: other } }] };
  const type = virtwireType("Domain");
  const props = resourceInputs("Domain", "vm", reimaged, virtwire.urn("Domain", "vm"));
  const names = `${second.outputs.name}, ${first.outputs.name}`;
  const refusal = `domain ${domain}: disk vda writes to the overlay of external snapshots ${names}, and a new source for it would take it off that overlay and break the snapshot chain; nothing was changed: delete the DomainSnapshots ${names} first`;
  await expect(virtwire.engine.preview(type, "vm", props)).rejects.toThrow(refusal);
  await expect(virtwire.up("Domain", "vm", reimaged)).rejects.toThrow(refusal);
  expect(await diskFiles(dom)).toEqual({ live: top, next: top });

  // Deleting both snapshots, newest first, merges the chain back into the volume.
  await virtwire.destroy("second");
  await virtwire.destroy("first");
  expect(await diskFiles(dom)).toEqual({ live: base, next: base });
  expect(existsSync(top)).toBe(false);
  expect((await lv.DomainListAllSnapshots({ dom, need_results: 1, flags: 0 })).snapshots).toEqual(
    [],
  );
  expect((await virtwire.up("Domain", "vm", restarted)).step).toBe("same");
});
