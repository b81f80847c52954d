/**
 * Shared folders, the emulated TPM and the UEFI details of a Domain through the real plugin against
 * the test bed: the tiny guest runs with a virtiofs share (libvirt starts virtiofsd), a 9p share
 * and a TPM 2.0 (swtpm), all read back with no change, and deleting the domain leaves no swtpm
 * state; a Secure Boot domain with its own loader, template and NVRAM file is defined shut off,
 * and `resetNvram` copies the template over the NVRAM without the guest running, or with a restart
 * of a running one; what cannot work
 * is refused at preview. Runs on both daemons (jest.config.js).
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DomainXMLFlags, ErrorCode, parseUuid } from "../../rpc";
import type { DomainInputs } from "../../resources/kit/generated/types";
import { GUEST_INITRD, GUEST_KERNEL, waitForConsole } from "../support/guest";
import { type PropertyMap, reveal } from "../support/pulumi-wire";
import { daemonPath, uniqueName } from "../support/testbed";
import { resourceInputs, virtwireType } from "../support/virtwire-engine";
import { useDomainBed } from "../support/domain-bed";

const DOMAIN = virtwireType("Domain");
const OVMF = "/usr/share/OVMF";

jest.setTimeout(180_000);

const bed = useDomainBed("fw");

const guest = (name: string, extra: Partial<DomainInputs> = {}): DomainInputs => ({
  name,
  type: "qemu",
  memory: "128MiB",
  machine: "q35",
  kernel: GUEST_KERNEL,
  initrd: GUEST_INITRD,
  cmdline: "console=ttyS0",
  console: { type: "file", path: join(bed.scratch, `${name}.log`) },
  shutdownTimeout: 0,
  ...extra,
});

async function up(name: string, args: DomainInputs) {
  return bed.engine.up(DOMAIN, name, resourceInputs("Domain", name, args as PropertyMap));
}

/** The command lines of the host's processes that mention `needle`. */
async function processesWith(needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const line = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (line.includes(needle)) found.push(line.replace(/\0/g, " "));
  }
  return found;
}

it("runs the tiny guest with a virtiofs share, a 9p share and a TPM 2.0, reads them back unchanged, and leaves no swtpm state behind", async () => {
  const name = uniqueName("shares");
  const virtiofsDir = join(bed.scratch, "virtiofs");
  const nineDir = join(bed.scratch, "nine");
  await Promise.all([mkdir(virtiofsDir), mkdir(nineDir)]);
  const args = guest(name, {
    memoryBacking: { source: "memfd", access: "shared" },
    filesystems: [
      { source: virtiofsDir, target: "share" },
      { driver: "9p", source: nineDir, target: "nine", readOnly: true, accessMode: "mapped" },
    ],
    tpm: {},
  });
  const created = await up("shares", args);
  expect(created.step).toBe("create");
  const shares = [
    {
      driver: "virtiofs",
      source: virtiofsDir,
      target: "share",
      readOnly: false,
      accessMode: "passthrough",
    },
    { driver: "9p", source: nineDir, target: "nine", readOnly: true, accessMode: "mapped" },
  ];
  const tpm = { model: "tpm-crb", version: "2.0" };
  expect(created.outputs).toMatchObject({ filesystems: shares, tpm, state: "running" });

  // libvirt started virtiofsd for the share, and swtpm keeps the TPM's state by the domain's UUID.
  const daemons = await processesWith(virtiofsDir);
  expect(daemons.length).toBeGreaterThan(0);
  expect(daemons.every((line) => /virtiofsd/.test(line))).toBe(true);
  const tpmState = daemonPath(`/var/lib/libvirt/swtpm/${created.id}`);
  expect(existsSync(tpmState)).toBe(true);
  await waitForConsole(args.console!.path!, /VIRTWIRE-GUEST: ready/, 90_000);

  expect((await up("shares", args)).step).toBe("same");
  const refreshed = await bed.engine.refresh();
  expect(refreshed.map((r) => r.changed)).toEqual([false]);
  const props = resourceInputs("Domain", "got", {}, bed.virtwire.urn("Domain", "got"));
  const read = await bed.engine.get(DOMAIN, "got", created.id, props);
  expect(reveal(read.outputs)).toMatchObject({ filesystems: shares, tpm });

  await bed.engine.destroy();
  await expect(bed.lv.DomainLookupByUUID({ uuid: parseUuid(created.id) })).rejects.toMatchObject({
    code: ErrorCode.NO_DOMAIN,
  });
  expect(existsSync(tpmState)).toBe(false);
  expect(await processesWith(virtiofsDir)).toEqual([]);
});

it("defines a Secure Boot domain with its own loader, template and NVRAM file, and resets the NVRAM to the template, kept shut off or restarted", async () => {
  const name = uniqueName("uefi");
  const nvram = join(bed.scratch, `${name}_VARS.fd`);
  const template = `${OVMF}/OVMF_VARS_4M.ms.fd`;
  const args = guest(name, {
    running: false,
    features: { smm: true },
    firmware: "efi",
    secureBoot: true,
    loader: `${OVMF}/OVMF_CODE_4M.secboot.fd`,
    nvramTemplate: template,
    nvram,
  });
  const created = await up("uefi", args);
  expect(created.step).toBe("create");
  expect(created.outputs).toMatchObject({
    firmware: "efi",
    secureBoot: true,
    loader: args.loader,
    nvram,
    nvramTemplate: template,
    state: "shutoff",
  });
  const { dom } = await bed.lv.DomainLookupByUUID({ uuid: parseUuid(created.id) });
  const inactive = (await bed.lv.DomainGetXMLDesc({ dom, flags: DomainXMLFlags.INACTIVE })).xml;
  expect(inactive).toMatch(/<loader readonly='yes' secure='yes' type='pflash'[^>]*>[^<]*secboot/);
  expect((await up("uefi", args)).step).toBe("same");
  expect((await bed.engine.refresh()).map((r) => r.changed)).toEqual([false]);
  const props = resourceInputs("Domain", "got", {}, bed.virtwire.urn("Domain", "got"));
  const read = await bed.engine.get(DOMAIN, "got", created.id, props);
  expect(reveal(read.outputs)).toMatchObject({ secureBoot: true, loader: args.loader, nvram });

  const templateBytes = await readFile(daemonPath(template));
  const reset = await up("uefi", { ...args, resetNvram: "first" });
  expect(reset.step).toBe("update");
  expect(reset.outputs).toMatchObject({ resetNvram: "first", state: "shutoff" });
  expect((await readFile(nvram)).equals(templateBytes)).toBe(true);

  // Variables the firmware would have written: the next reset copies the template over them.
  await writeFile(nvram, Buffer.alloc(templateBytes.length, 0x5a));
  expect((await up("uefi", { ...args, resetNvram: "second" })).step).toBe("update");
  expect((await readFile(nvram)).equals(templateBytes)).toBe(true);
  expect((await up("uefi", { ...args, resetNvram: "second" })).step).toBe("same");

  // Running: the reset restarts the domain with a fresh NVRAM. The firmware may write variables
  // as soon as it runs, but never the store's header, which the garbage had overwritten.
  const running = { ...args, running: true, resetNvram: "second" };
  expect((await up("uefi", running)).outputs).toMatchObject({ state: "running" });
  const firstRun = (await bed.lv.DomainLookupByUUID({ uuid: dom.uuid })).dom.id;
  await writeFile(nvram, Buffer.alloc(templateBytes.length, 0x5a));
  const restarted = await up("uefi", { ...running, resetNvram: "third" });
  expect(restarted.outputs).toMatchObject({ resetNvram: "third", state: "running" });
  expect((await bed.lv.DomainLookupByUUID({ uuid: dom.uuid })).dom.id).not.toBe(firstRun);
  const header = (await readFile(nvram)).subarray(0, 64);
  expect(header.equals(templateBytes.subarray(0, 64))).toBe(true);

  // The NVRAM file was the user's (it may hold enrolled keys): the domain goes, the file stays.
  await bed.engine.destroy();
  await expect(bed.lv.DomainLookupByUUID({ uuid: dom.uuid })).rejects.toMatchObject({
    code: ErrorCode.NO_DOMAIN,
  });
  expect(existsSync(nvram)).toBe(true);
});

it("refuses at preview a virtiofs share without shared memory and Secure Boot on a pc machine, naming the fix", async () => {
  const name = uniqueName("fwrefused");
  const refused = (args: DomainInputs) =>
    bed.engine.preview(DOMAIN, "refused", resourceInputs("Domain", "refused", args as PropertyMap));
  const noSharedMemory = await refused(
    guest(name, { filesystems: [{ source: bed.scratch, target: "share" }] }),
  ).catch((e: Error) => e);
  expect(String(noSharedMemory)).toMatch(
    /filesystems\[0\] is virtiofs, which needs the guest's memory shared with virtiofsd: add memoryBacking: \{ source: "memfd", access: "shared" \}/,
  );
  const pc = await refused(
    guest(name, { machine: "pc", firmware: "efi", secureBoot: true, features: { smm: true } }),
  ).catch((e: Error) => e);
  expect(String(pc)).toMatch(/secureBoot needs a q35 machine .*: set machine: "q35"/);
});
