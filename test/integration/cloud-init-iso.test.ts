/**
 * The NoCloud seed image read by real readers: blkid and isoinfo/isovfy on the host (Debian package
 * genisoimage), and the Linux isofs driver of the test bed's guest kernel, which mounts it from a SATA
 * cdrom. The host kernel of a test machine may lack iso9660 (a loop mount then fails with "unknown
 * filesystem type"), so the kernel-side checks run in a guest: once with the test bed's own /init
 * (which finds the cidata label and prints the instance-id, as cloud-init would), and once with an
 * /init of ours appended to its initramfs that lists the mounted files, hashes them and prints what
 * the kernel logged about Rock Ridge. And the other way round: virtwire's reader (CloudInitDisk.get)
 * reads the seeds genisoimage makes.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { Libvirt, RemoteNonnullDomain } from "../../rpc";
import { DomainCreateFlags } from "../../rpc/protocol/remote";
import { buildNoCloudIso, readNoCloudIso } from "../../resources/cloud-init-disk/nocloud";
import { GUEST_INITRD, guestDomainXml, waitForConsole } from "../support/guest";
import { connectTestbed, uniqueName } from "../support/testbed";

const run = promisify(execFile);

const seed = {
  userData: "#cloud-config\nhostname: vwtest\nruncmd:\n  - echo hello\n",
  metaData: "local-hostname: vwtest-guest\n",
  networkConfig: "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n",
  // Empty: a zero-length file is recorded at extent 0, which readers must accept.
  vendorData: "",
};
const { image, instanceId, metaData } = buildNoCloudIso(seed);
const expectedFiles: Record<string, string> = {
  "meta-data": metaData,
  "network-config": seed.networkConfig,
  "user-data": seed.userData,
  "vendor-data": seed.vendorData,
};
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** Runs a host tool; a missing one fails with the Debian package that provides it. */
async function tool(command: string, args: string[], debianPackage: string): Promise<string> {
  try {
    return (await run(command, args, { encoding: "latin1", maxBuffer: 1 << 24 })).stdout;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error(`${command} is missing: install the Debian package ${debianPackage}`);
    }
    throw error;
  }
}

/**
 * A newc cpio archive (the initramfs format): per file a 110-byte ASCII header "070701" + 13 fields
 * of 8 hex digits (ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor,
 * rdevminor, namesize, check), the NUL-terminated name, padding to 4, the data, padding to 4; then
 * the entry "TRAILER!!!".
 */
function cpioNewc(files: { name: string; mode: number; data: Buffer }[]): Buffer {
  const pad4 = (length: number) => Buffer.alloc((4 - (length % 4)) % 4);
  const parts: Buffer[] = [];
  const add = (name: string, mode: number, data: Buffer, ino: number) => {
    const fields = [ino, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length + 1, 0];
    const header = `070701${fields.map((field) => field.toString(16).padStart(8, "0")).join("")}`;
    const head = Buffer.from(`${header}${name}\0`, "latin1");
    parts.push(head, pad4(head.length), data, pad4(data.length));
  };
  files.forEach((file, index) => add(file.name, file.mode, file.data, index + 1));
  add("TRAILER!!!", 0, Buffer.alloc(0), 0);
  return Buffer.concat(parts);
}

/**
 * Our /init: loads the guest's modules, mounts the cdrom read-only as iso9660, prints one "VWISO:"
 * line per finding, then powers off. The kernel logs "ISO 9660 Extensions: RRIP_1991A" at debug
 * level when it finds the ER entry, i.e. when it uses Rock Ridge names even though Joliet is there.
 */
const LISTING_INIT = `#!/bin/busybox sh
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
echo 1 >/proc/sys/kernel/printk
while read -r module; do insmod "/lib/modules/$module" 2>/dev/null; done </lib/modules/order
tries=0
while [ ! -b /dev/sr0 ] && [ $tries -lt 80 ]; do sleep 0.25; tries=$((tries + 1)); done
echo "VWISO: label $(dd if=/dev/sr0 bs=1 skip=32808 count=32 2>/dev/null | tr -d ' ')"
mount -t iso9660 -o ro /dev/sr0 /mnt/cidata && echo "VWISO: mounted"
ls -ln /mnt/cidata | sed -n 's/^[-d]/VWISO: ls &/p'
for file in /mnt/cidata/*; do echo "VWISO: sha256 $(sha256sum "$file")"; done
dmesg | grep -i -E 'iso 9660|isofs' | sed 's/^/VWISO: dmesg /'
echo "VWISO: done"
poweroff -f
`;

describe("the NoCloud seed image read by real readers", () => {
  let scratch: string;
  let isoPath: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), "vwtest-cidata-"));
    isoPath = join(scratch, "seed.iso");
    await writeFile(isoPath, image);
  });

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  describe("on the host", () => {
    it("blkid finds an iso9660 filesystem labelled cidata", async () => {
      const read = (tag: string) =>
        tool("blkid", ["-o", "value", "-s", tag, isoPath], "util-linux");
      expect((await read("LABEL")).trim()).toBe("cidata");
      expect((await read("TYPE")).trim()).toBe("iso9660");
    });

    it("isoinfo sees Rock Ridge and Joliet and the volume id", async () => {
      const info = await tool("isoinfo", ["-d", "-i", isoPath], "genisoimage");
      expect(info).toMatch(/^Volume id: cidata$/m);
      expect(info).toMatch(/^Rock Ridge signatures version 1 found$/m);
      expect(info).toMatch(/^Joliet with UCS level 3 found$/m);
    });

    it("isoinfo lists the Rock Ridge names, modes and sizes", async () => {
      const listing = await tool("isoinfo", ["-R", "-l", "-i", isoPath], "genisoimage");
      const files = listing
        .split("\n")
        .filter((line) => line.startsWith("-"))
        .map((line) => line.trim().split(/\s+/))
        .map((fields) => [fields[0], fields[4], fields[fields.length - 1]]);
      expect(files).toEqual(
        Object.entries(expectedFiles).map(([name, content]) => [
          "-r--r--r--",
          String(Buffer.byteLength(content)),
          name,
        ]),
      );
    });

    it("isoinfo lists the Joliet names", async () => {
      const listing = await tool("isoinfo", ["-J", "-l", "-i", isoPath], "genisoimage");
      const names = listing.match(/\S+;1(?=\s*$)/gm);
      expect(names).toEqual(Object.keys(expectedFiles).map((name) => `${name};1`));
    });

    it("isoinfo extracts every file by its Rock Ridge path unchanged", async () => {
      for (const [name, content] of Object.entries(expectedFiles)) {
        const args = ["-R", "-x", `/${name}`, "-i", isoPath];
        expect(await tool("isoinfo", args, "genisoimage")).toBe(content);
      }
    });

    it("isovfy finds no errors", async () => {
      expect(await tool("isovfy", [isoPath], "genisoimage")).toMatch(/No errors found/);
    });

    // CloudInitDisk.get reads seeds back; users may also have made theirs with genisoimage.
    it.each([
      ["Rock Ridge and Joliet", ["-rock", "-joliet"]],
      ["Rock Ridge only", ["-rock"]],
      ["Joliet only", ["-joliet"]],
    ])("virtwire's reader reads a seed genisoimage made with %s", async (_what, options) => {
      const dirOfFiles = join(scratch, `genisoimage-${options.join("")}`);
      await mkdir(dirOfFiles);
      for (const [name, content] of Object.entries(expectedFiles)) {
        await writeFile(join(dirOfFiles, name), content);
      }
      const output = join(scratch, `genisoimage${options.join("")}.iso`);
      const args = ["-quiet", "-output", output, "-volid", "cidata", ...options, dirOfFiles];
      await tool("genisoimage", args, "genisoimage");
      expect(readNoCloudIso(await readFile(output))).toEqual({
        userData: seed.userData,
        metaData,
        networkConfig: seed.networkConfig,
        vendorData: seed.vendorData,
        instanceId,
      });
    });
  });

  describe("in a test bed guest (Debian kernel, SATA cdrom)", () => {
    let lv: Libvirt;
    const started: RemoteNonnullDomain[] = [];

    beforeAll(async () => {
      lv = await connectTestbed();
    });

    afterAll(async () => {
      for (const dom of started) await lv.DomainDestroy({ dom }).catch(() => undefined);
      await lv?.close();
    });

    /** Starts a transient guest with the image as its cdrom; returns its serial log's path. */
    async function boot(purpose: string, initrd: string): Promise<string> {
      const name = uniqueName(purpose);
      const serialLog = join(scratch, `${name}.log`);
      const devices = `<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>
      <source file='${isoPath}'/><target dev='sda' bus='sata'/><readonly/></disk>`;
      const xml = guestDomainXml(name, { serialLog, initrd, devices });
      const { dom } = await lv.DomainCreateXML({ xml_desc: xml, flags: DomainCreateFlags.NONE });
      started.push(dom);
      return serialLog;
    }

    /** The whole console log once it shows `marker`. */
    const logOnceItHas = async (serialLog: string, marker: RegExp) =>
      (await waitForConsole(serialLog, marker, 90_000)).input!;

    it("the test bed's /init mounts it by its cidata label and prints our instance-id", async () => {
      const serialLog = await boot("cidata", GUEST_INITRD);
      const log = await logOnceItHas(serialLog, /VIRTWIRE-GUEST: (ready|no cidata)/);
      expect(log).toMatch(/^VIRTWIRE-GUEST: cidata \/dev\/sr0\r?$/m);
      expect(log).toContain(`VIRTWIRE-INSTANCE-ID: ${instanceId}`);
    });

    it("the guest kernel shows the Rock Ridge names and modes and the exact contents", async () => {
      // The kernel unpacks concatenated initramfs archives in order, later files replacing earlier
      // ones; each archive starts at a multiple of 4 bytes.
      const base = await readFile(GUEST_INITRD);
      const init = cpioNewc([{ name: "init", mode: 0o100755, data: Buffer.from(LISTING_INIT) }]);
      const initrd = join(scratch, "listing-initrd.gz");
      await writeFile(
        initrd,
        Buffer.concat([base, Buffer.alloc((4 - (base.length % 4)) % 4), gzipSync(init)]),
      );
      const log = await logOnceItHas(await boot("cidata-ls", initrd), /VWISO: done/);
      const lines = (tag: string) =>
        [...log.matchAll(new RegExp(`^VWISO: ${tag} (.*?)\\r?$`, "gm"))].map((match) => match[1]);
      expect(lines("label")).toEqual(["cidata"]);
      expect(log).toMatch(/^VWISO: mounted\r?$/m);
      const listing = lines("ls").map((line) => line!.trim().split(/\s+/));
      expect(listing.map((fields) => [fields[0], fields[4], fields[fields.length - 1]])).toEqual(
        Object.entries(expectedFiles).map(([name, content]) => [
          "-r--r--r--",
          String(Buffer.byteLength(content)),
          name,
        ]),
      );
      expect(lines("sha256")).toEqual(
        Object.entries(expectedFiles).map(
          ([name, content]) => `${sha256(content)}  /mnt/cidata/${name}`,
        ),
      );
      expect(lines("dmesg").join("\n")).toMatch(/ISO 9660 Extensions: RRIP_1991A/);
    });
  });
});
