/**
 * DomainSnapshot against the test bed's daemons (9.0 and 11.3), through its handlers: internal
 * snapshots of a shut-off and of a running tiny guest, an external disk-only one of a running
 * guest, revert by the trigger, and deletes that leave nothing behind: no snapshot metadata, no
 * overlay file, the disk back on its own image (on 9.0 virtwire merges the overlay itself, on
 * 11.3 libvirt does). Each guest has one qcow2 volume of a pool of this run.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DomainState, Libvirt, RemoteNonnullDomain, RemoteNonnullStoragePool } from "../../rpc";
import { domainSnapshotHandlers as handlers } from "../../resources/domain-snapshot/handlers";
import { removeFiles } from "../../resources/domain-snapshot/files";
import { CannotMergeError, mergeAndForget } from "../../resources/domain-snapshot/merge";
import { readDomainDisks, readSnapshotXml } from "../../resources/domain-snapshot/xml";
import { removeDomain } from "../../resources/domain/removal";
import { fillDefaults } from "../../resources/kit/check";
import type { DomainSnapshotInputs } from "../../resources/kit/generated/types";
import { guestDomainXml } from "../support/guest";
import { recordingContext } from "../support/recording-context";
import { connectTestbed, dirPoolXml, removePool, uniqueName } from "../support/testbed";

jest.setTimeout(120_000);

let lv: Libvirt;
let scratch: string;
let pool: RemoteNonnullStoragePool;
const domains: RemoteNonnullDomain[] = [];
const { ctx, lines } = recordingContext(() => lv);

beforeAll(async () => {
  lv = await connectTestbed();
  scratch = await mkdtemp(join(tmpdir(), "vwtest-snap-"));
  ({ pool } = await lv.StoragePoolCreateXML({
    xml: dirPoolXml(uniqueName("snap"), scratch),
    flags: 0,
  }));
});

afterAll(async () => {
  for (const dom of domains) await removeDomain(lv, dom).catch(() => undefined);
  if (pool) await removePool(lv, pool);
  await rm(scratch, { recursive: true, force: true });
  await lv?.close();
});

/** A tiny guest with one blank qcow2 disk, defined, and started when `running`. */
async function guest(running: boolean): Promise<{ dom: RemoteNonnullDomain; disk: string }> {
  const name = uniqueName("snap");
  const { vol } = await lv.StorageVolCreateXML({
    pool,
    xml: `<volume><name>${name}.qcow2</name><capacity unit='MiB'>16</capacity><target><format type='qcow2'/></target></volume>`,
    flags: 0,
  });
  const { name: disk } = await lv.StorageVolGetPath({ vol });
  const devices = `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${disk}'/><target dev='vda' bus='virtio'/></disk>`;
  const xml = guestDomainXml(name, { serialLog: join(scratch, `${name}.log`), devices });
  const { dom } = await lv.DomainDefineXML({ xml });
  domains.push(dom);
  if (running) await lv.DomainCreate({ dom });
  return { dom, disk };
}

const inputs = (dom: RemoteNonnullDomain, given: Partial<DomainSnapshotInputs> = {}) =>
  fillDefaults("DomainSnapshot", {
    domain: dom.name,
    name: uniqueName("snap"),
    ...given,
  }) as DomainSnapshotInputs;

const snapshotCount = async (dom: RemoteNonnullDomain) =>
  (await lv.DomainListAllSnapshots({ dom, need_results: 1, flags: 0 })).snapshots.length;

const state = async (dom: RemoteNonnullDomain) =>
  (await lv.DomainGetState({ dom, flags: 0 })).state;

/** Files of the domain's in the scratch directory but its disk and console log: overlays, memory. */
const filesBeside = async (dom: RemoteNonnullDomain) =>
  (await readdir(scratch)).filter(
    (file) => file.startsWith(`${dom.name}.`) && !/\.(qcow2|log)$/.test(file),
  );

const diskSource = async (dom: RemoteNonnullDomain) =>
  readDomainDisks((await lv.DomainGetXMLDesc({ dom, flags: 0 })).xml)[0]!.path;

describe("DomainSnapshot", () => {
  it("an internal snapshot of a shut-off domain reads back with no diff, is found by get, reverts a running domain to off, and is deleted without a trace", async () => {
    const { dom } = await guest(false);
    const given = inputs(dom, { description: "before & after" });
    const { id, outs } = await handlers.create(given, ctx);
    expect(outs).toMatchObject({
      domain: dom.name,
      name: given.name,
      description: "before & after",
      kind: "internal",
      state: "shutoff",
      current: true,
      overlays: [],
    });
    expect(outs.creationTime).toBeGreaterThan(Date.now() / 1000 - 120);
    expect(await handlers.read(id, outs, ctx)).toEqual(outs);
    expect(handlers.diff!(id, outs, given, ctx)).toMatchObject({ changes: false });
    const got = await handlers.get(`${dom.name}/${given.name}`, {}, ctx);
    expect(got).toEqual({ id, outs: { ...outs, host: undefined } });

    // Running now; the revert follows the snapshot: shut off.
    await lv.DomainCreate({ dom });
    const news = { ...given, revert: "1" };
    expect(handlers.diff!(id, outs, news, ctx)).toMatchObject({ changes: true, replaces: [] });
    await handlers.update(id, outs, news, ctx);
    expect(await state(dom)).toBe(DomainState.SHUTOFF);

    await handlers.delete(id, outs, ctx);
    expect(await snapshotCount(dom)).toBe(0);
    expect(await handlers.read(id, outs, ctx)).toBeUndefined();
    await handlers.delete(id, outs, ctx); // already gone: not an error
  });

  it("an internal snapshot of a running domain keeps its memory, and a revert leaves the domain running", async () => {
    const { dom } = await guest(true);
    const { id, outs } = await handlers.create(inputs(dom), ctx);
    expect(outs).toMatchObject({ kind: "internal", state: "running", overlays: [] });
    await lv.DomainDestroy({ dom });
    await handlers.update(id, outs, { ...inputs(dom), name: outs.name, revert: "a" }, ctx);
    expect(await state(dom)).toBe(DomainState.RUNNING);
    await handlers.delete(id, outs, ctx);
    expect(await snapshotCount(dom)).toBe(0);
  });

  it("an external disk-only snapshot of a running domain writes to an overlay until its delete merges it back and removes the file", async () => {
    const { dom, disk } = await guest(true);
    const { id, outs } = await handlers.create(inputs(dom, { kind: "external" }), ctx);
    expect(outs).toMatchObject({ kind: "external", state: "disk-snapshot" });
    expect(outs.overlays).toHaveLength(1);
    const [overlay] = outs.overlays;
    expect(await diskSource(dom)).toBe(overlay);
    expect(existsSync(overlay!)).toBe(true);

    lines.length = 0;
    await handlers.delete(id, outs, ctx);
    expect(lines).toEqual([]); // libvirt (9.0 and later) merged and removed the files itself
    expect(await snapshotCount(dom)).toBe(0);
    expect(await diskSource(dom)).toBe(disk);
    expect(existsSync(overlay!)).toBe(false);
    expect(await state(dom)).toBe(DomainState.RUNNING);
  });

  it("an external snapshot with a memory file is a full checkpoint; its delete leaves neither overlay nor memory file", async () => {
    const { dom, disk } = await guest(true);
    const memoryFile = join(scratch, `${dom.name}.mem`);
    const given = inputs(dom, { kind: "external", memoryFile });
    const { id, outs } = await handlers.create(given, ctx);
    expect(outs).toMatchObject({ kind: "external", state: "running", memoryFile });
    expect(existsSync(memoryFile)).toBe(true);
    lines.length = 0;
    await handlers.delete(id, outs, ctx);
    expect(lines).toEqual([]); // libvirt (9.0 and later) merged and removed the files itself
    expect(await snapshotCount(dom)).toBe(0);
    expect(await diskSource(dom)).toBe(disk);
    expect(existsSync(outs.overlays[0]!)).toBe(false);
    expect(existsSync(memoryFile)).toBe(false);
    expect(await filesBeside(dom)).toEqual([]);
  });

  it("an external snapshot of a domain shut off since is deleted too", async () => {
    const { dom, disk } = await guest(true);
    const { id, outs } = await handlers.create(inputs(dom, { kind: "external" }), ctx);
    await lv.DomainDestroy({ dom });
    lines.length = 0;
    await handlers.delete(id, outs, ctx);
    expect(lines).toEqual([]); // libvirt (9.0 and later) merged and removed the files itself
    expect(await snapshotCount(dom)).toBe(0);
    expect(await diskSource(dom)).toBe(disk);
    expect(existsSync(outs.overlays[0]!)).toBe(false);
  });

  it("the merge virtwire does for daemons before 9.0 commits the overlay, pivots, forgets the snapshot and removes the file", async () => {
    const { dom, disk } = await guest(true);
    const { outs } = await handlers.create(inputs(dom, { kind: "external" }), ctx);
    const { snap } = await lv.DomainSnapshotLookupByName({ dom, name: outs.name, flags: 0 });
    const facts = readSnapshotXml((await lv.DomainSnapshotGetXMLDesc({ snap, flags: 0 })).xml);
    lines.length = 0;
    await mergeAndForget(lv, dom, snap, facts, ctx);
    await removeFiles(lv, outs.overlays, { ctx, host: undefined });
    expect(lines).toEqual([`virtwire: merged the overlay of disk vda of domain ${dom.name} back`]);
    expect(await snapshotCount(dom)).toBe(0);
    expect(await diskSource(dom)).toBe(disk);
    expect(existsSync(outs.overlays[0]!)).toBe(false);
  });

  it("the merge refuses, changing nothing, when a later external snapshot sits on top", async () => {
    const { dom } = await guest(true);
    const first = await handlers.create(inputs(dom, { kind: "external" }), ctx);
    const second = await handlers.create(inputs(dom, { kind: "external" }), ctx);
    expect(second.outs.parent).toBe(first.outs.name);
    const { snap } = await lv.DomainSnapshotLookupByName({ dom, name: first.outs.name, flags: 0 });
    const facts = readSnapshotXml((await lv.DomainSnapshotGetXMLDesc({ snap, flags: 0 })).xml);
    const merge = mergeAndForget(lv, dom, snap, facts, ctx);
    await expect(merge).rejects.toThrow(CannotMergeError);
    await expect(merge).rejects.toThrow(/delete that one first/);
    expect(await snapshotCount(dom)).toBe(2);
    expect(await diskSource(dom)).toBe(second.outs.overlays[0]);
    // Pulumi deletes the later one first (it depends on nothing, but so a user would).
    await handlers.delete(second.id, second.outs, ctx);
    await handlers.delete(first.id, first.outs, ctx);
    expect(await snapshotCount(dom)).toBe(0);
  });

  it("an external snapshot is reverted from libvirt 9.7 on; before, libvirt refuses and the domain stays as it was", async () => {
    const { dom } = await guest(true);
    const given = inputs(dom, { kind: "external" });
    const { id, outs } = await handlers.create(given, ctx);
    const reverting = handlers.update(id, outs, { ...given, revert: "1" }, ctx);
    const { lib_ver } = await lv.ConnectGetLibVersion();
    if (lib_ver >= 9_007_000n) {
      await reverting;
      // A disk-only snapshot has no memory to run from: the domain is shut off after it.
      expect(await state(dom)).toBe(DomainState.SHUTOFF);
    } else {
      await expect(reverting).rejects.toThrow();
      expect(await diskSource(dom)).toBe(outs.overlays[0]);
      expect(await state(dom)).toBe(DomainState.RUNNING);
    }
    await handlers.delete(id, outs, ctx);
    expect(await snapshotCount(dom)).toBe(0);
    expect(await filesBeside(dom)).toEqual([]);
  });

  it("refuses at check a memory file for an internal snapshot and quiesce with memory", () => {
    const dom = { name: "vm", uuid: Buffer.alloc(16), id: -1 };
    expect(handlers.check!(inputs(dom, { memoryFile: "/tmp/m" }))).toEqual([
      expect.objectContaining({ property: "memoryFile" }),
    ]);
    expect(
      handlers.check!(inputs(dom, { kind: "external", memoryFile: "/tmp/m", quiesce: true })),
    ).toEqual([expect.objectContaining({ property: "quiesce" })]);
  });

  it("quiesce without the guest agent fails at up saying how to fix it, and leaves no snapshot", async () => {
    const { dom } = await guest(true);
    const create = handlers.create(inputs(dom, { kind: "external", quiesce: true }), ctx);
    await expect(create).rejects.toThrow(/set qemuAgent: true on the Domain/);
    expect(await snapshotCount(dom)).toBe(0);
  });

  it("a domain that still has a snapshot is removed as a Domain's delete removes it", async () => {
    const { dom } = await guest(false);
    await handlers.create(inputs(dom), ctx);
    await removeDomain(lv, dom);
    await expect(lv.DomainLookupByUUID({ uuid: dom.uuid })).rejects.toThrow();
  });
});
