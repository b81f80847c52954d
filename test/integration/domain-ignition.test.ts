/**
 * A Domain's Ignition config through fw_cfg, against the test bed: the tiny guest (no Ignition in
 * it; what is shown is that libvirt and QEMU take the entry) starts with the config file as
 * `opt/com.coreos/config`, reads back with no change, and drops the entry, with a restart, when
 * the property is removed.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DomainXMLFlags, Libvirt, parseUuid } from "../../rpc";
import type { DomainInputs } from "../../resources/kit/generated/types";
import { Engine } from "../support/engine";
import { GUEST_INITRD, GUEST_KERNEL } from "../support/guest";
import type { PropertyMap } from "../support/pulumi-wire";
import { connectTestbed, uniqueName } from "../support/testbed";
import { VirtwireEngine, resourceInputs, virtwireType } from "../support/virtwire-engine";

const DOMAIN = virtwireType("Domain");

jest.setTimeout(180_000);

let virtwire: VirtwireEngine;
let lv: Libvirt;
let engine: Engine;
let scratch: string;

beforeAll(async () => {
  [virtwire, lv] = await Promise.all([VirtwireEngine.start(), connectTestbed()]);
  scratch = await mkdtemp(join(tmpdir(), "vwtest-ignition-"));
  engine = virtwire.reset();
});

afterAll(async () => {
  await engine?.destroy().catch(() => undefined);
  await virtwire?.close();
  await rm(scratch, { recursive: true, force: true });
  await lv?.close();
});

const guest = (name: string, ignition?: DomainInputs["ignition"]): DomainInputs => ({
  name,
  type: "qemu",
  vcpu: 1,
  memory: "128MiB",
  kernel: GUEST_KERNEL,
  initrd: GUEST_INITRD,
  cmdline: "console=ttyS0",
  console: { type: "file", path: join(scratch, `${name}.log`) },
  shutdownTimeout: 5,
  ignition,
});

async function up(args: DomainInputs) {
  return engine.up(DOMAIN, "coreos", resourceInputs("Domain", "coreos", args as PropertyMap));
}

it("starts a guest with its Ignition config in fw_cfg, reads it back unchanged, and removes it with a restart", async () => {
  const name = uniqueName("ignition");
  const path = join(scratch, "config.ign");
  await writeFile(path, JSON.stringify({ ignition: { version: "3.4.0" } }));
  const created = await up(guest(name, { path }));
  expect(created.step).toBe("create");
  expect(created.outputs).toMatchObject({ ignition: { path }, state: "running" });
  const { dom } = await lv.DomainLookupByUUID({ uuid: parseUuid(created.id) });
  const xml = (await lv.DomainGetXMLDesc({ dom, flags: DomainXMLFlags.INACTIVE })).xml;
  expect(xml).toMatch(
    new RegExp(`<sysinfo type='fwcfg'>\\s*<entry name='opt/com.coreos/config' file='${path}'/>`),
  );
  // What QEMU is told: the file as a fw_cfg blob.
  const live = (await lv.DomainGetXMLDesc({ dom, flags: 0 })).xml;
  expect(live).toMatch(/opt\/com.coreos\/config/);
  expect((await up(guest(name, { path }))).step).toBe("same");

  const removed = await up(guest(name));
  expect(removed.step).toBe("update");
  expect(removed.outputs.ignition).toBeUndefined();
  expect(removed.outputs.state).toBe("running");
  expect((await up(guest(name))).step).toBe("same");

  const refused = await up(guest(name, { path: "config.ign" })).catch((e: Error) => e);
  expect(String(refused)).toMatch(/ignition\.path/);
});
