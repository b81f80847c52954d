/**
 * Domain xmlEdits through the real plugin against the test bed: edits that override managed
 * elements (vCPUs, the kernel command line) and add an attribute are defined, the running tiny
 * guest is read back with no change on a second run, a changed edit restarts it, and an XPath that
 * selects nothing is refused at preview with the edit's index.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DomainXMLFlags, Libvirt, parseUuid } from "../../rpc";
import type { DomainInputs, DomainXmlEdit } from "../../resources/kit/generated/types";
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
  scratch = await mkdtemp(join(tmpdir(), "vwtest-edits-"));
  engine = virtwire.reset();
});

afterAll(async () => {
  await engine?.destroy().catch(() => undefined);
  await virtwire?.close();
  await rm(scratch, { recursive: true, force: true });
  await lv?.close();
});

const guest = (name: string, xmlEdits: DomainXmlEdit[]): DomainInputs => ({
  name,
  type: "qemu",
  vcpu: 1,
  memory: "128MiB",
  kernel: GUEST_KERNEL,
  initrd: GUEST_INITRD,
  cmdline: "console=ttyS0",
  console: { type: "file", path: join(scratch, `${name}.log`) },
  shutdownTimeout: 5,
  xmlEdits,
});

/** `pulumi up`, with what the plugin printed (the diff's summary line among it). */
async function up(args: DomainInputs) {
  const printed = virtwire.plugin.mark();
  const props = resourceInputs("Domain", "edited", args as PropertyMap);
  return { ...(await engine.up(DOMAIN, "edited", props)), log: printed() };
}

async function inactiveXml(id: string): Promise<string> {
  const { dom } = await lv.DomainLookupByUUID({ uuid: parseUuid(id) });
  return (await lv.DomainGetXMLDesc({ dom, flags: DomainXMLFlags.INACTIVE })).xml;
}

it("runs a guest whose managed elements edits changed, reads it back unchanged, restarts it for a changed edit and refuses an XPath that selects nothing", async () => {
  const name = uniqueName("edits");
  const edits: DomainXmlEdit[] = [
    { xpath: "/domain/vcpu", value: "2" },
    { xpath: "/domain/os/cmdline", remove: true },
    { xpath: "//serial/source/@append", value: "on" },
  ];
  const created = await up(guest(name, edits));
  expect(created.step).toBe("create");
  // The inputs are reported where libvirt holds what the edits wrote.
  expect(created.outputs).toMatchObject({ vcpu: 1, cmdline: "console=ttyS0", state: "running" });
  const xml = await inactiveXml(created.id);
  expect(xml).toMatch(/<vcpu placement='static'>2<\/vcpu>/);
  expect(xml).not.toMatch(/<cmdline>/);
  expect(xml).toMatch(/<source path='[^']+' append='on'\/>/);
  expect((await up(guest(name, edits))).step).toBe("same");
  // A refresh reads the edited XML back as the inputs too: nothing changes in the state.
  expect(await engine.refresh()).toEqual([
    expect.objectContaining({ changed: false, deleted: false }),
  ]);

  const { dom } = await lv.DomainLookupByUUID({ uuid: parseUuid(created.id) });
  const runningId = dom.id;
  const changed = [{ xpath: "/domain/vcpu", value: "3" }, ...edits.slice(1)];
  const restarted = await up(guest(name, changed));
  expect(restarted.step).toBe("update");
  // The preview's line shows each edit on the XML virtwire builds, before → after.
  expect(restarted.log).toContain(
    'xmlEdits changed: [0] /domain/vcpu: <vcpu>1</vcpu> → <vcpu>3</vcpu>; [1] /domain/os/cmdline: <cmdline>console=ttyS0</cmdline> → (removed); [2] //serial/source/@append: (none) → @append="on" [restart]',
  );
  expect(restarted.outputs).toMatchObject({ vcpu: 1, state: "running" });
  expect((await lv.DomainLookupByUUID({ uuid: dom.uuid })).dom.id).not.toBe(runningId);
  expect(await inactiveXml(created.id)).toMatch(/<vcpu placement='static'>3<\/vcpu>/);
  expect((await up(guest(name, changed))).step).toBe("same");

  const refused = await up(
    guest(name, [...changed, { xpath: "//tpm[@model='tpm-crb']", remove: true }]),
  ).catch((e: Error) => e);
  expect(String(refused)).toMatch(/xmlEdits\[3\] selects nothing: "\/\/tpm\[@model='tpm-crb'\]"/);
});
