/**
 * `Kind.get(name, id)` of every kind through the real dynamic-provider plugin, against the test
 * bed's daemon: an object made by `up` is read with nothing known before (the engine's Get: only
 * the program's hidden props), by its id and by what else users know it by, and the state has every
 * property `up` reported, with the same values; the engine keeps the canonical id. An id that names
 * nothing, or several volumes, fails with one line naming the kind, the id and what is accepted.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Libvirt, RemoteNonnullStoragePool } from "../../rpc";
import { parseSize } from "../../resources/kit/units";
import { GUEST_CMDLINE, GUEST_INITRD, GUEST_KERNEL } from "../support/guest";
import { PropertyMap, reveal } from "../support/pulumi-wire";
import {
  connectTestbed,
  dirPoolXml,
  randomSubnet,
  removePool,
  uniqueName,
} from "../support/testbed";
import { VirtwireEngine, resourceInputs, virtwireType } from "../support/virtwire-engine";

let virtwire: VirtwireEngine;
let lv: Libvirt;
let dir: string;
const pools: RemoteNonnullStoragePool[] = [];
let gets = 0;

beforeAll(async () => {
  [virtwire, lv] = await Promise.all([VirtwireEngine.start(), connectTestbed()]);
  dir = await mkdtemp(join(tmpdir(), "vwtest-get-"));
  // Two running pools for the volumes, each with a volume of the same name.
  for (const label of ["a", "b"]) {
    const target = await mkdtemp(join(dir, `pool-${label}-`));
    const xml = dirPoolXml(uniqueName(`get${label}`), target);
    pools.push((await lv.StoragePoolCreateXML({ xml, flags: 0 })).pool);
  }
  for (const pool of pools) {
    await lv.StorageVolCreateXML({
      pool,
      xml: "<volume><name>twin.raw</name><capacity>1024</capacity></volume>",
      flags: 0,
    });
  }
});

afterAll(async () => {
  await virtwire?.close();
  for (const pool of pools) await removePool(lv, pool).catch(() => undefined);
  await lv?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** `Kind.get(<new name>, id, state)` as the sdk/ class registers it: the engine's Get. */
async function get(kind: string, id: string, state: PropertyMap = {}) {
  const name = `got-${++gets}`;
  const props = resourceInputs(kind, name, state, virtwire.urn(kind, name));
  const entry = await virtwire.engine.get(virtwireType(kind), name, id, props);
  return { name, id: entry.id, outputs: reveal(entry.outputs) as Record<string, unknown> };
}

/** What a failed get said, and whether the plugin printed a stack trace. */
async function getFailure(kind: string, id: string, state: PropertyMap = {}) {
  const printed = virtwire.plugin.mark();
  const error = await get(kind, id, state).then(
    () => new Error("the get passed"),
    (e: Error) => e,
  );
  return { message: error.message, stack: /^\s+at /m.test(printed()) };
}

/** Every property `up` reported is in the state of the get, with the same value. */
function expectComplete(got: Record<string, unknown>, created: Record<string, unknown>) {
  for (const [key, value] of Object.entries(created)) {
    if (key.startsWith("__")) continue;
    expect({ [key]: got[key] }).toEqual({ [key]: value });
  }
}

const without = (outputs: Record<string, unknown>, ...keys: string[]) =>
  Object.fromEntries(Object.entries(outputs).filter(([key]) => !keys.includes(key)));

describe("Pool.get", () => {
  it("reads every property by UUID and by name, and the engine keeps the UUID", async () => {
    const targetPath = join(dir, "images");
    const created = await virtwire.up("Pool", "images", { type: "dir", targetPath });
    const byUuid = await get("Pool", created.id);
    const byName = await get("Pool", created.outputs.name as string);
    for (const got of [byUuid, byName]) {
      expect(got.id).toBe(created.id);
      // Sizes move with whatever else writes to the file system; a pool read by get was not
      // built by virtwire, so its storage is never deleted through it.
      expectComplete(
        without(got.outputs, "capacity", "allocation", "available", "built"),
        without(created.outputs, "capacity", "allocation", "available", "built"),
      );
      expect(got.outputs.built).toBe(false);
      expect(got.outputs).toMatchObject({ targetPath, type: "dir", autostart: true });
      expect(got.outputs.permissions).toMatchObject({ mode: expect.stringMatching(/^0\d{3}$/) });
      expect(got.outputs.capacity).toBeGreaterThan(0);
    }
    // A refresh of what a get read keeps every property (sizes may move meanwhile).
    await expect(virtwire.refresh(byName.name)).resolves.not.toBe("deleted");
    const sizes = ["capacity", "allocation", "available"];
    expect(without(virtwire.outputs(byName.name), ...sizes)).toEqual(
      without(byName.outputs, ...sizes),
    );
  });

  it("says which pool it could not find, on one line", async () => {
    const name = uniqueName("nopool");
    const failure = await getFailure("Pool", name);
    expect(failure.message).toContain(
      `Reading storage pool failed: no storage pool has the UUID or name "${name}" (virsh pool-list --all lists the storage pools of a host)`,
    );
    expect(failure.stack).toBe(false);
  });
});

describe("Network.get", () => {
  it("reads every property by UUID and by name", async () => {
    const subnet = randomSubnet();
    const created = await virtwire.up("Network", "lan", {
      mode: "isolated",
      domain: "lan.test",
      mtu: 1400,
      addresses: [
        {
          address: `${subnet}.1`,
          prefix: 24,
          dhcp: {
            ranges: [{ start: `${subnet}.100`, end: `${subnet}.199` }],
            hosts: [{ mac: "52:54:00:00:00:07", ip: `${subnet}.7`, name: "seven" }],
          },
        },
      ],
      dnsHosts: [{ ip: `${subnet}.8`, hostnames: ["eight"] }],
    });
    for (const id of [created.id, created.outputs.name as string]) {
      const got = await get("Network", id);
      expect(got.id).toBe(created.id);
      expectComplete(got.outputs, created.outputs);
      expect(got.outputs.bridgeName).toMatch(/^virbr\d+$/);
    }
  });
});

describe("Domain.get", () => {
  it("reads every property by UUID and by name", async () => {
    const created = await virtwire.up("Domain", "vm", {
      type: "qemu",
      memory: "128MiB",
      kernel: GUEST_KERNEL,
      initrd: GUEST_INITRD,
      cmdline: GUEST_CMDLINE,
      running: false,
    });
    for (const id of [created.id, created.outputs.name as string]) {
      const got = await get("Domain", id);
      expect(got.id).toBe(created.id);
      // A get knows no spelling the user chose: sizes come in bytes.
      expectComplete(
        without(got.outputs, "memory", "maxMemory"),
        without(created.outputs, "memory", "maxMemory"),
      );
      expect(parseSize(got.outputs.memory)).toBe(parseSize(created.outputs.memory));
      expect(parseSize(got.outputs.maxMemory)).toBe(parseSize(created.outputs.maxMemory));
    }
  });
});

describe("Volume.get", () => {
  const poolName = () => pools[0]!.name;

  it("reads every property by key, path, <pool>/<name>, or name", async () => {
    const created = await virtwire.up("Volume", "data", { pool: poolName(), capacity: "2MiB" });
    const name = created.outputs.name as string;
    const ids = [created.id, created.outputs.path as string, `${poolName()}/${name}`, name];
    for (const id of ids) {
      const got = await get("Volume", id);
      expect(got.id).toBe(created.id);
      expectComplete(got.outputs, created.outputs);
      await expect(virtwire.refresh(got.name)).resolves.toBe("same");
    }
  });

  it("refuses a name several pools have, naming them and what to give instead", async () => {
    const [a, b] = pools.map((pool) => pool.name).sort() as [string, string];
    const failure = await getFailure("Volume", "twin.raw");
    expect(failure.message).toContain(
      `Reading volume failed: 2 storage pools have a volume named "twin.raw" (${a}, ${b}): give its key or path, or "${a}/twin.raw" or "${b}/twin.raw"`,
    );
    expect(failure.stack).toBe(false);
    // Named by its pool, in the id or in the state, it is found.
    expect((await get("Volume", `${a}/twin.raw`)).outputs).toMatchObject({ pool: a });
    expect((await get("Volume", "twin.raw", { pool: b })).outputs).toMatchObject({ pool: b });
  });

  it("says what it accepts when nothing matches", async () => {
    const failure = await getFailure("Volume", "nothing.raw", { pool: poolName() });
    expect(failure.message).toContain(
      `no volume has the key, path, <pool>/<name> or name "nothing.raw" in storage pool "${poolName()}"`,
    );
  });
});

describe("CloudInitDisk.get", () => {
  const seed = {
    userData: "#cloud-config\nhostname: web\n",
    networkConfig: "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n",
  };

  it("reads the data and the instance-id back from the image", async () => {
    const created = await virtwire.up("CloudInitDisk", "seed", {
      ...seed,
      metaData: "instance-id: web-1\nlocal-hostname: web\n",
      pool: pools[0]!.name,
    });
    for (const id of [created.id, created.outputs.name as string]) {
      const got = await get("CloudInitDisk", id);
      expect(got.id).toBe(created.id);
      expectComplete(got.outputs, created.outputs);
      expect(got.outputs.instanceId).toBe("web-1");
    }
  });

  it("reports the meta-data as recorded, with the instance-id virtwire added", async () => {
    const created = await virtwire.up("CloudInitDisk", "derived", {
      ...seed,
      metaData: "local-hostname: web\n",
      pool: pools[0]!.name,
    });
    const got = await get("CloudInitDisk", created.id);
    expectComplete(without(got.outputs, "metaData"), without(created.outputs, "metaData"));
    expect(got.outputs.metaData).toBe(
      `instance-id: ${created.outputs.instanceId}\nlocal-hostname: web\n`,
    );
  });

  it("says a volume that is no seed image is not one", async () => {
    const twin = `${pools[0]!.name}/twin.raw`;
    const failure = await getFailure("CloudInitDisk", twin);
    expect(failure.message).toContain(
      `Reading cloud-init disk failed: volume twin.raw in storage pool ${pools[0]!.name} is not a cloud-init seed image: it is not an ISO 9660 image`,
    );
    expect(failure.stack).toBe(false);
  });
});
