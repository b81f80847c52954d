/**
 * `Pool.get`, `Network.get` and `Volume.get` in a program, through the real Pulumi CLI against the
 * test bed: objects made outside Pulumi are read by name, UUID and `<pool>/<name>` with every
 * property libvirt has, the state keeps their canonical ids, a refresh and a second up change
 * nothing, an unknown name fails with one clean line, and destroy leaves the objects alone.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Libvirt, RemoteNonnullNetwork, RemoteNonnullStoragePool, formatUuid } from "../../rpc";
import { noise } from "../support/bad-inputs";
import {
  connectTestbed,
  dirPoolXml,
  isolatedNetworkXml,
  randomSubnet,
  removePool,
  uniqueName,
} from "../support/testbed";
import { PulumiProject } from "./pulumi-project";

const poolName = uniqueName("get");
const netName = uniqueName("get");
const subnet = randomSubnet();

let project: PulumiProject;
let lv: Libvirt;
let pool: RemoteNonnullStoragePool;
let net: RemoteNonnullNetwork;
let poolDir: string;
let volumeKey: string;

type State = Record<string, unknown>;
const outputs = async () =>
  (await project.outputs()) as { pools: State; networks: State; volumes: State; isInstance: [] };

/** The ids the state holds for what the program read, by resource name. */
async function stateIds(): Promise<Record<string, string>> {
  const { deployment } = JSON.parse(await project.exportState()) as {
    deployment: { resources: { urn: string; id: string; external?: boolean }[] };
  };
  return Object.fromEntries(
    deployment.resources
      .filter((resource) => resource.external)
      .map((resource) => [resource.urn.split("::").pop(), resource.id]),
  );
}

beforeAll(async () => {
  lv = await connectTestbed();
  poolDir = await mkdtemp(path.join(tmpdir(), `${poolName}-`));
  // Persistent, as users' own pools and networks are, so autostart is theirs to report.
  ({ pool } = await lv.StoragePoolDefineXML({ xml: dirPoolXml(poolName, poolDir), flags: 0 }));
  await lv.StoragePoolCreate({ pool, flags: 0 });
  const { vol } = await lv.StorageVolCreateXML({
    pool,
    xml: "<volume><name>disk.raw</name><capacity unit='MiB'>4</capacity></volume>",
    flags: 0,
  });
  volumeKey = vol.key;
  ({ net } = await lv.NetworkDefineXML({ xml: isolatedNetworkXml(netName, subnet) }));
  await lv.NetworkCreate({ net });

  project = await PulumiProject.create(path.join(__dirname, "get-program"), "get");
  await project.setConfig("virtwire:uri", process.env.VIRTWIRE_TEST_URI ?? "qemu:///system");
  await project.setConfig("get:pool", poolName);
  await project.setConfig("get:network", formatUuid(net.uuid));
  await project.setConfig("get:volume", `${poolName}/disk.raw`);
});

afterAll(async () => {
  await project?.pulumi("destroy", "--yes", "--skip-preview").catch(() => undefined);
  project?.remove();
  if (net) {
    await lv.NetworkDestroy({ net }).catch(() => undefined);
    await lv.NetworkUndefine({ net }).catch(() => undefined);
  }
  if (pool) {
    await removePool(lv, pool).catch(() => undefined);
    await lv.StoragePoolUndefine({ pool }).catch(() => undefined);
  }
  await lv?.close();
  if (poolDir) await rm(poolDir, { recursive: true, force: true });
});

describe("objects made outside Pulumi, read with Kind.get", () => {
  it("have every property libvirt has, and the state holds their canonical ids", async () => {
    await project.pulumi("up", "--yes", "--skip-preview");
    const { pools, networks, volumes, isInstance } = await outputs();
    const poolUuid = formatUuid(pool.uuid);
    // The engine stores the id read returns; the program's `id` stays the one it passed.
    await expect(stateIds()).resolves.toEqual({
      pool: poolUuid,
      network: formatUuid(net.uuid),
      volume: volumeKey,
    });
    expect(pools).toMatchObject({
      id: poolName,
      uuid: poolUuid,
      name: poolName,
      type: "dir",
      targetPath: poolDir,
      autostart: false,
      active: true,
      permissions: { mode: expect.stringMatching(/^0\d{3}$/) },
      deleteTargetOnDestroy: false,
    });
    expect(pools.capacity).toBeGreaterThan(0);
    expect(networks).toMatchObject({
      id: formatUuid(net.uuid),
      name: netName,
      mode: "isolated",
      addresses: [
        {
          address: `${subnet}.1`,
          prefix: 24,
          dhcp: { ranges: [{ start: `${subnet}.100`, end: `${subnet}.199` }] },
        },
      ],
      bridgeName: expect.stringMatching(/^virbr\d+$/),
      autostart: false,
      active: true,
    });
    expect(volumes).toMatchObject({
      id: `${poolName}/disk.raw`,
      key: volumeKey,
      name: "disk.raw",
      pool: poolName,
      capacity: 4 * 2 ** 20,
      format: "raw",
    });
    expect(isInstance).toEqual([true, true, false]);
  });

  it("are read again, by their canonical ids, on refresh and on every up", async () => {
    await project.pulumi("refresh", "--yes", "--skip-preview");
    expect(await project.plannedChanges()).toEqual(["read network", "read pool", "read volume"]);
    await project.pulumi("up", "--yes", "--skip-preview");
    expect((await outputs()).networks).toMatchObject({ name: netName, mode: "isolated" });
  });

  it("fail with one clean line for a name that matches nothing", async () => {
    await project.setConfig("get:pool", `${poolName}-missing`);
    const error = await project.pulumi("preview").then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toContain(
      `Reading storage pool failed: no storage pool has the UUID or name "${poolName}-missing" (virsh pool-list --all lists the storage pools of a host)`,
    );
    expect(error!.message.split("\n").filter(noise)).toEqual([]);
    expect(error!.message).not.toMatch(/\n\s+at /);
    await project.setConfig("get:pool", poolName);
  });

  it("are left alone by destroy", async () => {
    await project.pulumi("destroy", "--yes", "--skip-preview");
    await expect(lv.StoragePoolIsActive({ pool })).resolves.toEqual({ active: 1 });
    await expect(lv.NetworkIsActive({ net })).resolves.toEqual({ active: 1 });
    await expect(lv.StorageVolLookupByKey({ key: volumeKey })).resolves.toBeDefined();
  });
});
