/**
 * What a failed earlier create left behind, against the test bed daemon: a fresh create removes
 * the objects that carry its resource's mark and never touches one that does not. The leftovers
 * are made here by hand, as a clean-up that could not reach the daemon leaves them; the fault
 * tests (leftovers-faults.test.ts) make them for real, on a private daemon.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DomainMetadataType,
  formatUuid,
  isNotFound,
  Libvirt,
  parseUuid,
  RemoteNonnullStoragePool,
} from "../../rpc";
import { markedUuid, markInMetadata, RESOURCE_NAMESPACE } from "../../resources/kit/owner";
import { GUEST_CMDLINE, GUEST_INITRD, GUEST_KERNEL, guestDomainXml } from "../support/guest";
import type { PropertyMap } from "../support/pulumi-wire";
import { connectTestbed, dirPoolXml, randomSubnet, uniqueName } from "../support/testbed";
import { resourceInputs, VirtwireEngine, virtwireType } from "../support/virtwire-engine";

jest.setTimeout(120_000);

let virtwire: VirtwireEngine;
let lv: Libvirt;
let scratch: string;
let pool: RemoteNonnullStoragePool;
const poolName = uniqueName("leftover");
/** What the tests made by hand, removed afterwards whatever happened. */
const byHand = { domains: [] as string[], networks: [] as string[], pools: [] as string[] };

beforeAll(async () => {
  [virtwire, lv] = await Promise.all([VirtwireEngine.start(), connectTestbed()]);
  scratch = await mkdtemp(join(tmpdir(), "vwtest-leftover-"));
  ({ pool } = await lv.StoragePoolCreateXML({ xml: dirPoolXml(poolName, scratch), flags: 0 }));
});

afterEach(async () => {
  await virtwire.engine.destroy().catch(() => undefined);
  virtwire.reset();
  for (const name of byHand.domains.splice(0)) {
    const found = await lv.DomainLookupByName({ name }).catch(() => undefined);
    if (found) await lv.DomainDestroy(found).catch(() => undefined);
    if (found) await lv.DomainUndefineFlags({ ...found, flags: 0 }).catch(() => undefined);
  }
  for (const name of byHand.networks.splice(0)) {
    const found = await lv.NetworkLookupByName({ name }).catch(() => undefined);
    if (found) await lv.NetworkUndefine(found).catch(() => undefined);
  }
  for (const name of byHand.pools.splice(0)) {
    const found = await lv.StoragePoolLookupByName({ name }).catch(() => undefined);
    if (found) await lv.StoragePoolDestroy(found).catch(() => undefined);
    if (found) await lv.StoragePoolUndefine(found).catch(() => undefined);
  }
});

afterAll(async () => {
  await virtwire?.close();
  await lv?.StoragePoolDestroy({ pool }).catch(() => undefined);
  await rm(scratch, { recursive: true, force: true });
  await lv?.close();
});

const logical = () => `vwtest-left-${randomBytes(2).toString("hex")}`;
const mark = (urn: string) =>
  `<metadata><virtwire:resource xmlns:virtwire="${RESOURCE_NAMESPACE}" urn="${urn}"/></metadata>`;

/** The name `up` will give the resource: check runs in preview as in up. */
async function derivedName(kind: string, name: string, args: PropertyMap): Promise<string> {
  const props = resourceInputs(kind, name, args, virtwire.urn(kind, name));
  return (await virtwire.engine.preview(virtwireType(kind), name, props)).inputs.name as string;
}

/** `pulumi up` of one resource, with the lines the plugin printed meanwhile. */
async function up(kind: string, name: string, args: PropertyMap) {
  const printed = virtwire.plugin.mark();
  const step = await virtwire.up(kind, name, args);
  await virtwire.plugin.quiet(50); // stdout travels beside the gRPC answer and may come after it
  return { ...step, log: printed() };
}

const guest = (name: string): PropertyMap => ({
  type: "qemu",
  memory: "128MiB",
  kernel: GUEST_KERNEL,
  initrd: GUEST_INITRD,
  cmdline: GUEST_CMDLINE,
  console: { type: "file", path: join(scratch, `${name}.console`) },
  shutdownTimeout: 0,
});

/** A running domain as a failed create leaves it: the tiny guest, marked for `urn` if given. */
function leftoverXml(name: string, urn?: string): string {
  const xml = guestDomainXml(name, { serialLog: join(scratch, `${name}.log`) });
  return urn ? xml.replace("</name>", `</name>${mark(urn)}`) : xml;
}

const gone = (work: () => Promise<unknown>) =>
  work().then(
    () => false,
    (error) => (isNotFound(error) ? true : Promise.reject(error)),
  );

async function domainMark(name: string): Promise<string | undefined> {
  const { dom } = await lv.DomainLookupByName({ name });
  const { metadata } = await lv.DomainGetMetadata({
    dom,
    type: DomainMetadataType.ELEMENT,
    uri: RESOURCE_NAMESPACE,
    flags: 0,
  });
  return markInMetadata(metadata);
}

describe("a fresh Domain create", () => {
  it("removes its own running leftover under the same name, then creates the domain", async () => {
    const name = logical();
    const urn = virtwire.urn("Domain", name);
    const vmName = await derivedName("Domain", name, guest(name));
    byHand.domains.push(vmName);
    const { dom: left } = await lv.DomainDefineXML({ xml: leftoverXml(vmName, urn) });
    await lv.DomainCreate({ dom: left });

    const created = await up("Domain", name, guest(name));
    expect(created.outputs.name).toBe(vmName);
    expect(created.log).toContain(
      `domain ${vmName}: removed, left by a failed earlier create of this resource (it was running)`,
    );
    expect(created.id).not.toBe(formatUuid(left.uuid));
    expect(await gone(() => lv.DomainLookupByUUID({ uuid: left.uuid }))).toBe(true);
    expect(created.outputs.state).toBe("running");
    expect(await domainMark(vmName)).toBe(urn);
  });

  it("removes a transient leftover that still runs under the name of an earlier program", async () => {
    const name = logical();
    const oldName = `${name}-0ld0ld0`;
    byHand.domains.push(oldName);
    await lv.DomainCreateXML({
      xml_desc: leftoverXml(oldName, virtwire.urn("Domain", name)),
      flags: 0,
    });

    const created = await up("Domain", name, guest(name));
    expect(created.log).toContain(`domain ${oldName}: removed, left by a failed earlier create`);
    expect(await gone(() => lv.DomainLookupByName({ name: oldName }))).toBe(true);
  });

  it("fails, touching nothing, when a domain without the mark has the name", async () => {
    const name = logical();
    const vmName = `${name}-user`;
    byHand.domains.push(vmName);
    const { dom: users } = await lv.DomainDefineXML({ xml: leftoverXml(vmName) });
    const other = virtwire.urn("Domain", `${name}-other`);
    const { dom: marked } = await lv.DomainDefineXML({
      xml: leftoverXml(`${vmName}2`, other),
    });
    byHand.domains.push(marked.name);

    const failure = await up("Domain", name, { ...guest(name), name: vmName }).catch((e) => e);
    expect(String(failure)).toContain(
      `a domain named ${vmName} already exists, and virtwire did not create it for this resource; nothing was changed`,
    );
    const again = await up("Domain", name, { ...guest(name), name: marked.name }).catch((e) => e);
    expect(String(again)).toContain(`already exists, and it belongs to ${other}`);
    expect((await lv.DomainLookupByName({ name: vmName })).dom.uuid).toEqual(users.uuid);
    expect(await domainMark(marked.name)).toBe(other);
  });

  it("fails, touching nothing, when the same URN marks it for another organization's stack", async () => {
    const name = logical();
    const vmName = `${name}-alice`;
    byHand.domains.push(vmName);
    const urn = virtwire.urn("Domain", name);
    const xml = leftoverXml(vmName).replace(
      "</name>",
      `</name><metadata><virtwire:resource xmlns:virtwire="${RESOURCE_NAMESPACE}" urn="${urn}" org="alice"/></metadata>`,
    );
    const { dom: alices } = await lv.DomainCreateXML({ xml_desc: xml, flags: 0 });

    const failure = await up("Domain", name, { ...guest(name), name: vmName }).catch((e) => e);
    expect(String(failure)).toContain(`already exists, and it belongs to alice/${urn}`);
    expect((await lv.DomainIsActive({ dom: alices })).active).toBe(1);
  });
});

describe("a fresh Network create", () => {
  it("removes a network with its mark, whatever its name", async () => {
    const name = logical();
    const oldName = `${name}-0ld0ld0`;
    byHand.networks.push(oldName);
    await lv.NetworkDefineXML({
      xml: `<network><name>${oldName}</name>${mark(virtwire.urn("Network", name))}</network>`,
    });
    const created = await up("Network", name, { mode: "isolated" });
    expect(created.log).toContain(`network ${oldName}: removed, left by a failed earlier create`);
    expect(await gone(() => lv.NetworkLookupByName({ name: oldName }))).toBe(true);
  });

  it("is not refused at preview for the subnet its own running leftover holds", async () => {
    const name = logical();
    const oldName = `${name}-0ld0ld0`;
    const subnet = randomSubnet();
    byHand.networks.push(oldName);
    const { net } = await lv.NetworkDefineXML({
      xml: `<network><name>${oldName}</name>${mark(virtwire.urn("Network", name))}<ip address="${subnet}.1" prefix="24"/></network>`,
    });
    await lv.NetworkCreate({ net });
    const addresses = [{ address: `${subnet}.1`, prefix: 24 }];
    const created = await up("Network", name, { mode: "isolated", addresses } as PropertyMap);
    expect(created.log).toContain(`network ${oldName}: removed, left by a failed earlier create`);
    expect(await gone(() => lv.NetworkLookupByName({ name: oldName }))).toBe(true);
  });
});

describe("a fresh Pool create", () => {
  const poolArgs = (dir: string): PropertyMap => ({ type: "dir", targetPath: join(scratch, dir) });

  it("removes the pool of its name whose UUID has the mark, keeping its storage", async () => {
    const name = logical();
    const args = poolArgs(name);
    const poolFor = await derivedName("Pool", name, args);
    byHand.pools.push(poolFor);
    const uuid = markedUuid(virtwire.urn("Pool", name));
    const xml = dirPoolXml(poolFor, join(scratch, name)).replace(
      "</name>",
      `</name><uuid>${uuid}</uuid>`,
    );
    const { pool: left } = await lv.StoragePoolDefineXML({ xml, flags: 0 });
    await lv.StoragePoolBuild({ pool: left, flags: 0 });
    await lv.StoragePoolCreate({ pool: left, flags: 0 });

    const created = await up("Pool", name, args);
    expect(created.outputs.name).toBe(poolFor);
    expect(created.log).toContain(`storage pool ${poolFor}: removed (its storage kept)`);
    expect(created.id).not.toBe(uuid);
    expect(created.id.slice(0, 23)).toBe(uuid.slice(0, 23));
    expect(await gone(() => lv.StoragePoolLookupByUUID({ uuid: parseUuid(uuid) }))).toBe(true);
  });

  it("fails, touching nothing, when a pool without the mark has the name", async () => {
    const name = logical();
    const args = poolArgs(name);
    const poolFor = await derivedName("Pool", name, args);
    byHand.pools.push(poolFor);
    const { pool: users } = await lv.StoragePoolDefineXML({
      xml: dirPoolXml(poolFor, join(scratch, `${name}-user`)),
      flags: 0,
    });
    const failure = await up("Pool", name, args).catch((e) => e);
    expect(String(failure)).toContain(`a storage pool named ${poolFor} already exists`);
    expect((await lv.StoragePoolLookupByName({ name: poolFor })).pool.uuid).toEqual(users.uuid);
  });
});

describe("a fresh Volume or CloudInitDisk create", () => {
  const volumeXml = (name: string) =>
    `<volume><name>${name}</name><capacity unit='KiB'>64</capacity></volume>`;

  it("deletes a volume under the name virtwire derived for it, then creates the volume", async () => {
    const name = logical();
    const args: PropertyMap = { pool: poolName, capacity: "1MiB" };
    const volName = await derivedName("Volume", name, args);
    await lv.StorageVolCreateXML({ pool, xml: volumeXml(volName), flags: 0 });
    const created = await up("Volume", name, args);
    expect(created.outputs).toMatchObject({ name: volName, capacity: 1 << 20 });
    expect(created.log).toContain(`volume ${volName} in storage pool ${poolName}: removed`);
  });

  it("deletes a seed under its derived name, then creates the seed", async () => {
    const name = logical();
    const args: PropertyMap = { pool: poolName, userData: "#cloud-config\n" };
    await up("CloudInitDisk", name, args);
    const seedName = virtwire.outputs(name).name as string;
    const key = virtwire.id(name);
    virtwire.reset(); // the state is lost, the volume stays: a leftover
    const created = await up("CloudInitDisk", name, args);
    expect(created.outputs.name).toBe(seedName);
    expect(created.id).toBe(key);
    expect(created.log).toContain(`volume ${seedName} in storage pool ${poolName}: removed`);
  });

  it("fails, touching nothing, when a volume has the name the user chose", async () => {
    const volName = `${logical()}.img`;
    const { vol } = await lv.StorageVolCreateXML({ pool, xml: volumeXml(volName), flags: 0 });
    const failure = await up("Volume", logical(), {
      pool: poolName,
      name: volName,
      capacity: "1MiB",
    }).catch((e) => e);
    expect(String(failure)).toContain(
      `a volume named "${volName}" already exists in storage pool ${poolName}. If it is this resource's own volume: pulumi up --replace makes the new volume before it deletes the old one, so under the same name it needs the resource option deleteBeforeReplace: true; or give the volume another name. If it is left over from a failed run and nothing needs it, delete it (virsh vol-delete ${volName} --pool ${poolName})`,
    );
    expect((await lv.StorageVolGetInfo({ vol })).capacity).toBe(64n * 1024n);
    await lv.StorageVolDelete({ vol, flags: 0 });
  });
});
