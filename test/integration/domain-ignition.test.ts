/**
 * First-boot configs against the test bed, through the real plugin: an IgnitionConfig and a
 * CombustionScript are volumes holding exactly their content (downloaded and read back by get,
 * the content secret), and a Domain given both starts the tiny guest (which runs neither: what is
 * shown is that libvirt and QEMU take the fw_cfg entries), reads back with no change, and drops the
 * entries, with a restart, when the properties are removed.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DomainXMLFlags, Libvirt, parseUuid } from "../../rpc";
import type { RemoteNonnullStoragePool } from "../../rpc/internal";
import { downloadVolume } from "../../transfer";
import type { DomainInputs } from "../../resources/kit/generated/types";
import { GUEST_INITRD, GUEST_KERNEL } from "../support/guest";
import type { PropertyMap } from "../support/pulumi-wire";
import { isSecret, reveal } from "../support/pulumi-wire";
import { connectTestbed, dirPoolXml, removePool, uniqueName } from "../support/testbed";
import { VirtwireEngine, resourceInputs, virtwireType } from "../support/virtwire-engine";

jest.setTimeout(180_000);

let virtwire: VirtwireEngine;
let lv: Libvirt;
let pool: RemoteNonnullStoragePool;
let scratch: string;

beforeAll(async () => {
  [virtwire, lv] = await Promise.all([VirtwireEngine.start(), connectTestbed()]);
  scratch = await mkdtemp(join(tmpdir(), "vwtest-firstboot-"));
  const target = await mkdtemp(join(scratch, "pool-"));
  ({ pool } = await lv.StoragePoolCreateXML({
    xml: dirPoolXml(uniqueName("fbpool"), target),
    flags: 0,
  }));
});

afterAll(async () => {
  await virtwire?.engine.destroy().catch(() => undefined);
  await virtwire?.close();
  if (pool) await removePool(lv, pool);
  await lv?.close();
  await rm(scratch, { recursive: true, force: true });
});

const IGNITION = JSON.stringify({
  ignition: { version: "3.4.0" },
  passwd: { users: [{ name: "core", passwordHash: "$6$hunter2" }] },
});
const SCRIPT = "#!/bin/bash\n# combustion: network\necho 'root:$6$hunter2' | chpasswd -e\n";

async function contentOf(key: string): Promise<string> {
  const { vol } = await lv.StorageVolLookupByKey({ key });
  const file = join(scratch, `download-${Date.now()}`);
  await downloadVolume(lv, vol, file);
  return readFile(file, "utf8");
}

const guest = (name: string, extra: Partial<DomainInputs>): DomainInputs => ({
  name,
  type: "qemu",
  vcpu: 1,
  memory: "128MiB",
  kernel: GUEST_KERNEL,
  initrd: GUEST_INITRD,
  cmdline: "console=ttyS0",
  console: { type: "file", path: join(scratch, `${name}.log`) },
  shutdownTimeout: 5,
  ...extra,
});

it("stores an Ignition config and a Combustion script as volumes of exactly their content, secret, read back by get", async () => {
  const ignition = await virtwire.up("IgnitionConfig", "node-ign", {
    pool: pool.name,
    content: IGNITION,
  });
  expect(ignition.step).toBe("create");
  expect(ignition.outputs).toMatchObject({
    name: expect.stringMatching(/^node-ign-[0-9a-f]{7}$/),
    size: Buffer.byteLength(IGNITION),
    content: IGNITION,
  });
  expect(await contentOf(ignition.id)).toBe(IGNITION);
  const script = await virtwire.up("CombustionScript", "node-script", {
    pool: pool.name,
    script: SCRIPT,
  });
  expect(await contentOf(script.id)).toBe(SCRIPT);
  const entry = virtwire.engine.resource(virtwire.urn("CombustionScript", "node-script"));
  expect(isSecret(entry.outputs.script)).toBe(true);

  expect(
    (await virtwire.up("IgnitionConfig", "node-ign", { pool: pool.name, content: IGNITION })).step,
  ).toBe("same");
  const props = resourceInputs("IgnitionConfig", "got", {}, virtwire.urn("IgnitionConfig", "got"));
  const got = await virtwire.engine.get(virtwireType("IgnitionConfig"), "got", ignition.id, props);
  expect(reveal(got.outputs)).toMatchObject({ content: IGNITION, pool: pool.name });
});

it("starts a guest with both configs in fw_cfg, reads it back unchanged, and removes them with a restart", async () => {
  const name = uniqueName("firstboot");
  const ignition = { path: virtwire.outputs("node-ign").path as string };
  const combustion = { path: virtwire.outputs("node-script").path as string };
  const up = (args: DomainInputs) => virtwire.up("Domain", "node", args as PropertyMap);
  const created = await up(guest(name, { ignition, combustion }));
  expect(created.step).toBe("create");
  expect(created.outputs).toMatchObject({ ignition, combustion, state: "running" });
  const { dom } = await lv.DomainLookupByUUID({ uuid: parseUuid(created.id) });
  const xml = (await lv.DomainGetXMLDesc({ dom, flags: DomainXMLFlags.INACTIVE })).xml;
  expect(xml).toContain(`<entry name='opt/com.coreos/config' file='${ignition.path}'/>`);
  expect(xml).toContain(
    `<entry name='opt/org.opensuse.combustion/script' file='${combustion.path}'/>`,
  );
  expect((await up(guest(name, { ignition, combustion }))).step).toBe("same");

  const removed = await up(guest(name, {}));
  expect(removed.step).toBe("update");
  expect(removed.outputs).toMatchObject({ state: "running" });
  expect(removed.outputs.ignition).toBeUndefined();
  expect(removed.outputs.combustion).toBeUndefined();
  expect((await up(guest(name, {}))).step).toBe("same");

  const refused = await up(guest(name, { ignition: { path: "config.ign" } })).catch(
    (e: Error) => e,
  );
  expect(String(refused)).toMatch(/ignition\.path/);
});
