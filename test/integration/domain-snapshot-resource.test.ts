/**
 * DomainSnapshot through the real plugin and the engine's step model, beside the Domain it
 * snapshots (its `domain` is the Domain's name): auto-named, no diff on the next up or refresh,
 * found by `get` with `<domain>/<name>`, a revert shown by preview as an in-place update of `revert` and carried out by up, after which
 * the Domain has no diff either, and one destroy that deletes the snapshot, then the domain,
 * leaving no snapshot metadata behind. The guest is the tiny one on a qcow2 volume.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DomainState, Libvirt, RemoteNonnullStoragePool } from "../../rpc";
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
  scratch = await mkdtemp(join(tmpdir(), "vwtest-snapres-"));
  ({ pool } = await lv.StoragePoolCreateXML({
    xml: dirPoolXml(uniqueName("snapres"), scratch),
    flags: 0,
  }));
  virtwire = await VirtwireEngine.start();
});

afterAll(async () => {
  await virtwire?.close();
  if (pool) await removePool(lv, pool);
  await rm(scratch, { recursive: true, force: true });
  await lv?.close();
});

it("a DomainSnapshot is taken, left alone, reverted on request and destroyed before its Domain", async () => {
  const volume = `${uniqueName("snapres")}.qcow2`;
  await lv.StorageVolCreateXML({
    pool,
    xml: `<volume><name>${volume}</name><capacity unit='MiB'>16</capacity><target><format type='qcow2'/></target></volume>`,
    flags: 0,
  });
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
  const snapArgs = { domain, description: "a checkpoint" };
  const snap = await virtwire.up("DomainSnapshot", "checkpoint", snapArgs);
  expect(snap.step).toBe("create");
  expect(snap.outputs).toMatchObject({
    domain,
    kind: "internal",
    state: "running",
    current: true,
    description: "a checkpoint",
  });
  expect(String(snap.outputs.name)).toMatch(/^checkpoint-[0-9a-f]{7}$/);
  expect(snap.id).toBe(`${vm.id}/${snap.outputs.name}`);

  expect((await virtwire.up("DomainSnapshot", "checkpoint", snapArgs)).step).toBe("same");
  expect(await virtwire.refresh("checkpoint")).toBe("same");
  const got = await virtwire.engine.get(
    virtwireType("DomainSnapshot"),
    "found",
    `${domain}/${snap.outputs.name}`,
    resourceInputs("DomainSnapshot", "found", {}),
  );
  expect(got.id).toBe(snap.id);
  expect(got.outputs).toMatchObject({ name: snap.outputs.name, description: "a checkpoint" });

  // The revert: preview shows an update of `revert` only; up reverts the running guest.
  const reverting = { ...snapArgs, revert: "2026-12-06" };
  const type = virtwireType("DomainSnapshot");
  const urn = virtwire.urn("DomainSnapshot", "checkpoint");
  const props = resourceInputs("DomainSnapshot", "checkpoint", reverting, urn);
  const preview = await virtwire.engine.preview(type, "checkpoint", props);
  expect(preview.step).toBe("update");
  expect(preview.diff).toMatchObject({ replaces: [] });
  const reverted = await virtwire.up("DomainSnapshot", "checkpoint", reverting);
  expect(reverted.step).toBe("update");
  expect(reverted.outputs.name).toBe(snap.outputs.name);
  const { dom } = await lv.DomainLookupByName({ name: domain });
  expect((await lv.DomainGetState({ dom, flags: 0 })).state).toBe(DomainState.RUNNING);
  expect((await virtwire.up("Domain", "vm", vmArgs)).step).toBe("same");
  expect((await virtwire.up("DomainSnapshot", "checkpoint", reverting)).step).toBe("same");

  // An external one moves the disk onto an overlay: the Domain still has no diff.
  const overlay = await virtwire.up("DomainSnapshot", "overlay", { domain, kind: "external" });
  expect(overlay.outputs.overlays).toHaveLength(1);
  const again = await virtwire.up("Domain", "vm", vmArgs);
  expect(again.step).toBe("same");
  expect(await virtwire.refresh("vm")).toBe("same");

  // One destroy: the snapshot (made last) goes first, then the domain.
  await virtwire.engine.destroy();
  await expect(lv.DomainLookupByName({ name: domain })).rejects.toThrow();
  virtwire.reset();
});
