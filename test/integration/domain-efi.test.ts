/**
 * A UEFI Domain (firmware "efi") through the real plugin against the test bed's daemon: libvirt
 * picks OVMF (Debian's `ovmf` package, which libvirt 11 needs already to define the domain), the
 * test kernel boots from OVMF by direct kernel boot under TCG, and deleting the Domain removes
 * its NVRAM file too. Runs on both daemons (jest.config.js).
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DomainXMLFlags, ErrorCode, Libvirt, parseUuid } from "../../rpc";
import type { DomainInputs } from "../../resources/kit/generated/types";
import { GUEST_CMDLINE, GUEST_INITRD, GUEST_KERNEL, waitForConsole } from "../support/guest";
import type { PropertyMap } from "../support/pulumi-wire";
import { connectTestbed, daemonPath, uniqueName } from "../support/testbed";
import { VirtwireEngine, resourceInputs, virtwireType } from "../support/virtwire-engine";

const DOMAIN = virtwireType("Domain");

jest.setTimeout(180_000);

let virtwire: VirtwireEngine;
let lv: Libvirt;
let scratch: string;

beforeAll(async () => {
  [virtwire, lv] = await Promise.all([VirtwireEngine.start(), connectTestbed()]);
  scratch = await mkdtemp(join(tmpdir(), "vwtest-efi-"));
});

afterAll(async () => {
  await virtwire?.close();
  await rm(scratch, { recursive: true, force: true });
  await lv?.close();
});

it("boots a UEFI domain's kernel under OVMF, and deletes the domain with its NVRAM", async () => {
  const serialLog = join(scratch, "serial.log");
  const args: DomainInputs = {
    name: uniqueName("efi"),
    type: "qemu",
    firmware: "efi",
    // OVMF faults under TCG with 128 MiB (a page fault before the kernel starts).
    memory: "256MiB",
    kernel: GUEST_KERNEL,
    initrd: GUEST_INITRD,
    cmdline: GUEST_CMDLINE,
    console: { type: "file", path: serialLog },
    shutdownTimeout: 20,
  };
  const engine = virtwire.engine;
  const created = await engine.up(
    DOMAIN,
    "efi",
    resourceInputs("Domain", "efi", args as PropertyMap),
  );
  expect(created.step).toBe("create");
  expect(created.outputs).toMatchObject({ firmware: "efi", running: true, state: "running" });

  const { dom } = await lv.DomainLookupByUUID({ uuid: parseUuid(created.id) });
  const inactive = (await lv.DomainGetXMLDesc({ dom, flags: DomainXMLFlags.INACTIVE })).xml;
  expect(inactive).toContain("<os firmware='efi'>");
  // libvirt 11 picks the firmware when the domain is defined, 9.0 when it starts: the running
  // domain's XML names the loader and the NVRAM file on both.
  const xml = (await lv.DomainGetXMLDesc({ dom, flags: 0 })).xml;
  expect(xml).toMatch(/<loader\b[^>]*>[^<]*OVMF[^<]*<\/loader>/);
  const nvram = xml.match(/<nvram\b[^>]*>([^<]+)<\/nvram>/)?.[1];
  expect(nvram).toBeDefined();
  expect(existsSync(daemonPath(nvram!))).toBe(true);

  // The kernel says which firmware started it; the initramfs then reports on the console.
  await waitForConsole(serialLog, /VIRTWIRE-GUEST: ready/, 120_000);
  expect(await readFile(serialLog, "utf8")).toMatch(/efi: EFI v\d+\.\d+ by .*EDK II/);

  await engine.destroy();
  await expect(lv.DomainLookupByUUID({ uuid: dom.uuid })).rejects.toMatchObject({
    code: ErrorCode.NO_DOMAIN,
  });
  expect(existsSync(daemonPath(nvram!))).toBe(false);
});
