/**
 * More of the Domain resource through the real plugin against the test bed: the cloud-init seed
 * as a SATA CD-ROM the guest reads (and a new seed applied with a restart), a vCPU hot-plugged,
 * the guest agent's diagnoses (addresses, cloud-init), and a UEFI domain with an XML patch
 * defined shut off.
 */
import { randomInt } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DomainXMLFlags, ErrorCode, parseUuid } from "../../rpc";
import { buildNoCloudIso } from "../../resources/cloud-init-disk/nocloud";
import type { DomainInputs } from "../../resources/kit/generated/types";
import { GUEST_INITRD, GUEST_KERNEL, waitForConsole } from "../support/guest";
import type { PropertyMap } from "../support/pulumi-wire";
import { isolatedNetworkXml, uniqueName } from "../support/testbed";
import { resourceInputs, virtwireType } from "../support/virtwire-engine";
import { useDomainBed } from "../support/domain-bed";

const DOMAIN = virtwireType("Domain");

jest.setTimeout(180_000);

const bed = useDomainBed("domdev");

const guest = (name: string, extra: Partial<DomainInputs> = {}): DomainInputs => ({
  type: "qemu",
  memory: "128MiB",
  kernel: GUEST_KERNEL,
  initrd: GUEST_INITRD,
  cmdline: "console=ttyS0",
  console: { type: "file", path: join(bed.scratch, `${name}.log`) },
  shutdownTimeout: 20,
  ...extra,
});

async function up(name: string, args: DomainInputs) {
  const printed = bed.virtwire.plugin.mark();
  const step = await bed.engine.up(
    DOMAIN,
    name,
    resourceInputs("Domain", name, args as PropertyMap),
  );
  return { ...step, log: printed() };
}

async function seed(file: string, instanceId: string): Promise<string> {
  const path = join(bed.scratch, file);
  const { image } = buildNoCloudIso({
    userData: "#cloud-config\n",
    metaData: `instance-id: ${instanceId}\n`,
  });
  await writeFile(path, image);
  return path;
}

it("attaches the cloud-init seed as a SATA CD-ROM the guest reads, and a new seed restarts", async () => {
  const log = join(bed.scratch, "seeded.log");
  const first = await seed("seed-1.iso", "iid-first");
  const args = (path: string, vcpu = 1) =>
    guest("seeded", { cloudInitDisk: { path }, vcpu, maxVcpus: 2 });
  const created = await up("seeded", args(first));
  expect(created.step).toBe("create");
  await waitForConsole(log, /VIRTWIRE-INSTANCE-ID: iid-first/);
  expect(await waitForConsole(log, /VIRTWIRE-GUEST: cidata (\S+)/)).toContain("/dev/sr0");
  const { dom } = await bed.lv.DomainLookupByUUID({ uuid: parseUuid(created.id) });
  const xml = (await bed.lv.DomainGetXMLDesc({ dom, flags: DomainXMLFlags.INACTIVE })).xml;
  expect(xml).toMatch(/<disk type='file' device='cdrom'>[\s\S]*<target dev='sda' bus='sata'\/>/);
  expect(created.outputs).toMatchObject({ cloudInitDisk: { path: first }, disks: [] });
  expect((await up("seeded", args(first))).step).toBe("same");

  const runningId = (await bed.lv.DomainLookupByUUID({ uuid: dom.uuid })).dom.id;
  const hotplug = await up("seeded", args(first, 2));
  expect(hotplug.log).toContain("vcpu 1 → 2 [live]");
  expect((await bed.lv.DomainGetVcpusFlags({ dom, flags: 1 })).num).toBe(2);
  expect((await bed.lv.DomainLookupByUUID({ uuid: dom.uuid })).dom.id).toBe(runningId);

  const second = await seed("seed-2.iso", "iid-second");
  const reseeded = await up("seeded", args(second, 2));
  expect(reseeded.log).toContain("cloudInitDisk changed [restart]");
  await waitForConsole(log, /VIRTWIRE-INSTANCE-ID: iid-second/);
  expect(reseeded.outputs.cloudInitDisk).toEqual({ path: second });
  expect((await up("seeded", args(second, 2))).step).toBe("same");
});

it("says the guest agent did not answer when addresses must come from it", async () => {
  const name = uniqueName("agent");
  const net = uniqueName("agent");
  await bed.lv.NetworkCreateXML({
    xml: isolatedNetworkXml(net, `10.254.${randomInt(0, 250)}`, { dhcp: false }),
  });
  try {
    const error = await up(
      "agent",
      guest("agent", {
        name,
        qemuAgent: true,
        networkInterfaces: [{ network: net }],
        waitForAddresses: { source: "agent", timeout: 5 },
      }),
    ).catch((e: Error) => e);
    expect(String(error)).toMatch(
      /no IP address after 5 s \(waitForAddresses.source agent\): interface 52:54:00:[0-9a-f:]+: the QEMU guest agent did not answer \(.*\): is qemu-guest-agent installed and running in the guest\?/,
    );
    await expect(bed.lv.DomainLookupByName({ name })).rejects.toMatchObject({
      code: ErrorCode.NO_DOMAIN,
    });
  } finally {
    await bed.lv.NetworkDestroy(await bed.lv.NetworkLookupByName({ name: net }));
  }
});

it("says the guest agent never answered when waiting for cloud-init, and removes the domain", async () => {
  const name = uniqueName("cloudinit");
  const started = Date.now();
  const error = await up(
    "cloudinit",
    guest("cloudinit", { name, qemuAgent: true, waitForCloudInit: { timeout: 5 } }),
  ).catch((e: Error) => e);
  expect(String(error)).toMatch(
    /cloud-init did not finish within 5 s \(waitForCloudInit.timeout\): the QEMU guest agent never answered \(.*\): is qemu-guest-agent installed and running in the guest/,
  );
  expect(Date.now() - started).toBeLessThan(60_000);
  await expect(bed.lv.DomainLookupByName({ name })).rejects.toMatchObject({
    code: ErrorCode.NO_DOMAIN,
  });
});

it("defines a UEFI domain with an XML patch shut off, reads both back, and shows no change", async () => {
  const args = guest("uefi", {
    firmware: "efi",
    machine: "q35",
    running: false,
    xmlPatches: [
      {
        parent: "devices",
        xml: "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>",
      },
    ],
  });
  const created = await up("uefi", args);
  expect(created.outputs).toMatchObject({ firmware: "efi", running: false, state: "shutoff" });
  const { dom } = await bed.lv.DomainLookupByUUID({ uuid: parseUuid(created.id) });
  const xml = (await bed.lv.DomainGetXMLDesc({ dom, flags: DomainXMLFlags.INACTIVE })).xml;
  expect(xml).toContain("<os firmware='efi'>");
  expect(xml).toMatch(/<rng model='virtio'>\s*<backend model='random'>\/dev\/urandom<\/backend>/);
  await bed.engine.refresh();
  expect((await up("uefi", args)).step).toBe("same");
  await bed.engine.destroy();
  await expect(bed.lv.DomainLookupByUUID({ uuid: dom.uuid })).rejects.toMatchObject({
    code: ErrorCode.NO_DOMAIN,
  });
});
