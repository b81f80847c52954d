import { readFileSync } from "node:fs";
import { join } from "node:path";
import { markIn } from "../kit/owner";
import { parseXml } from "../kit/xml";
import type { DomainInputs } from "../kit/generated/types";
import { planDomain } from "./plan";
import { buildDomainXml, diskXml, interfaceXml } from "./xml-build";
import { readDomainXml, readGraphicsPort } from "./xml-read";

const fixture = (name: string) => readFileSync(join(__dirname, "fixtures", name), "utf8");

const guest: DomainInputs = {
  name: "web-1",
  type: "qemu",
  vcpu: 1,
  maxVcpus: 2,
  memory: "128MiB",
  maxMemory: "256MiB",
  machine: "pc",
  arch: "x86_64",
  firmware: "bios",
  kernel: "/boot/vmlinuz",
  initrd: "/boot/initrd.gz",
  cmdline: "console=ttyS0",
  disks: [
    { volume: { pool: "images", name: "root.qcow2" } },
    { file: "/var/lib/libvirt/images/data.img", bus: "sata" },
    { device: "cdrom", file: "/isos/tools.iso" },
  ],
  cloudInitDisk: { path: "/var/lib/libvirt/images/seed.iso" },
  networkInterfaces: [
    { network: "lab" },
    { bridge: "br0", mac: "52:54:00:AA:BB:CC", model: "e1000e" },
  ],
  graphics: { type: "vnc" },
  console: { type: "file", path: "/var/log/web-1.log" },
  qemuAgent: true,
  xmlPatches: [
    {
      parent: "devices",
      xml: "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>",
    },
  ],
};

describe("the domain XML builder", () => {
  it("writes every input, with targets, formats and defaults decided", () => {
    const formats = new Map([["images/root.qcow2", "qcow2" as const]]);
    expect(buildDomainXml(planDomain(guest, undefined, formats))).toMatchSnapshot();
  });

  it("marks the domain with the resource's URN, which reading the XML ignores", () => {
    const urn = "urn:pulumi:dev::lab::pulumi-nodejs:dynamic/virtwire:Domain::web";
    const plan = planDomain(guest, undefined, new Map());
    const marked = buildDomainXml({ ...plan, owner: { urn, mark: urn, fresh: true } });
    expect(marked).toContain(
      `<metadata>\n    <virtwire:resource xmlns:virtwire="https://virtwire.dev/xmlns/resource/1" urn="${urn}"/>\n  </metadata>`,
    );
    expect(markIn(parseXml(marked, "domain"))).toBe(urn);
    expect(readDomainXml(marked)).toEqual(readDomainXml(buildDomainXml(plan)));
  });

  it("writes a minimal domain: memory equal to its ceiling, one vCPU, a pty console", () => {
    const xml = buildDomainXml(
      planDomain({ name: "tiny", type: "kvm", memory: "512MiB" }, undefined, new Map()),
    );
    expect(xml).toContain('<memory unit="KiB">524288</memory>');
    expect(xml).toContain('<currentMemory unit="KiB">524288</currentMemory>');
    expect(xml).toContain("<vcpu>1</vcpu>");
    expect(xml).toContain('<serial type="pty"/>');
    expect(xml).not.toContain("<graphics");
    expect(xml).not.toContain("<uuid>");
  });

  it("asks libvirt for UEFI firmware with <os firmware='efi'>", () => {
    const xml = buildDomainXml(
      planDomain({ name: "uefi", memory: "1GiB", firmware: "efi" }, undefined, new Map()),
    );
    expect(xml).toContain('<os firmware="efi">');
  });

  it("keeps the UUID, MAC addresses and disk targets of an existing domain when redefining", () => {
    const current = readDomainXml(fixture("inactive.xml"));
    const inputs: DomainInputs = {
      name: "vwtest-probe-aa1",
      memory: "128MiB",
      disks: [{ volume: { pool: "images", name: "root.qcow2" } }, { file: "/new.img" }],
      networkInterfaces: [{ network: "default" }],
      cloudInitDisk: { path: "/var/lib/libvirt/images/seed.iso" },
    };
    const plan = planDomain(inputs, current, new Map(), current.uuid);
    const xml = buildDomainXml(plan);
    expect(xml).toContain("<uuid>ad2e6c6d-cfc6-4576-905d-e2bed48c98f4</uuid>");
    expect(xml).toContain('<mac address="52:54:00:d2:ec:e5"/>');
    expect(plan.disks.map((disk) => disk.target)).toEqual(["vda", "vdb"]);
    expect(plan.disks[0]!.format).toBe("qcow2");
    expect(plan.cloudInit!.target).toBe("sdb");
  });

  it("keeps the boot disk's target when it gets a new volume (a re-image boots from vda again)", () => {
    const current = readDomainXml(fixture("inactive.xml"));
    const inputs: DomainInputs = {
      name: "vwtest-probe-aa1",
      memory: "128MiB",
      disks: [{ volume: { pool: "images", name: "root-new.qcow2" } }],
    };
    const plan = planDomain(inputs, current, new Map(), current.uuid);
    expect(plan.disks.map((disk) => [disk.volume?.name, disk.target])).toEqual([
      ["root-new.qcow2", "vda"],
    ]);
  });

  it("gives new disks names the domain does not use, and the cloud-init CD-ROM the next sd name", () => {
    const plan = planDomain(
      {
        name: "d",
        memory: "1GiB",
        disks: [
          { file: "/a.img", target: "vdb" },
          { file: "/b.img" },
          { file: "/c.img", bus: "scsi" },
        ],
        cloudInitDisk: { pool: "default", name: "seed.iso" },
      },
      undefined,
      new Map(),
    );
    expect(plan.disks.map((disk) => disk.target)).toEqual(["vdb", "vda", "sda"]);
    expect(plan.cloudInit).toMatchObject({
      target: "sdb",
      device: "cdrom",
      volume: { pool: "default", name: "seed.iso" },
    });
  });

  it("writes single devices for hotplug", () => {
    expect(
      diskXml({
        volume: { pool: "p", name: "v" },
        device: "disk",
        bus: "virtio",
        target: "vdc",
        format: "qcow2",
      }),
    ).toBe(
      `<disk type="volume" device="disk">
  <driver name="qemu" type="qcow2"/>
  <source pool="p" volume="v"/>
  <target dev="vdc" bus="virtio"/>
</disk>`,
    );
    expect(diskXml({ file: "/dev/sdb", device: "disk", bus: "virtio", target: "vdd" })).toContain(
      '<source dev="/dev/sdb"/>',
    );
    expect(interfaceXml({ network: "lab", mac: "52:54:00:01:02:03", model: "virtio" })).toBe(
      `<interface type="network">
  <mac address="52:54:00:01:02:03"/>
  <source network="lab"/>
  <model type="virtio"/>
</interface>`,
    );
  });
});

describe("the domain XML reader", () => {
  it("reads what virtwire models and ignores what libvirt adds", () => {
    expect(readDomainXml(fixture("inactive.xml"))).toEqual({
      name: "vwtest-probe-aa1",
      uuid: "ad2e6c6d-cfc6-4576-905d-e2bed48c98f4",
      type: "qemu",
      memoryBytes: 128 * 1024 * 1024,
      maxMemoryBytes: 256 * 1024 * 1024,
      vcpu: 1,
      maxVcpus: 2,
      machine: "pc-i440fx-7.2",
      arch: "x86_64",
      firmware: "bios",
      secureBoot: false,
      filesystems: [],
      cpu: { mode: "maximum" },
      boot: ["hd", "cdrom"],
      kernel: "/var/cache/virtwire/guest/vmlinuz",
      initrd: "/var/cache/virtwire/guest/initrd.gz",
      cmdline: "console=ttyS0",
      disks: [
        {
          device: "disk",
          bus: "virtio",
          target: "vda",
          readOnly: false,
          volume: { pool: "images", name: "root.qcow2" },
          format: "qcow2",
        },
        {
          device: "cdrom",
          bus: "sata",
          target: "sda",
          readOnly: true,
          file: "/tmp/vwprobe.iso",
          format: "raw",
        },
      ],
      cloudInitDisk: { path: "/var/lib/libvirt/images/seed.iso" },
      cloudInitTarget: "sdb",
      networkInterfaces: [
        { mac: "52:54:00:d2:ec:e5", model: "virtio", network: "default", linkState: "up" },
        { mac: "52:54:00:c4:83:28", model: "e1000", bridge: "vwbr0", linkState: "up" },
      ],
      hostdevs: [],
      dhcpMacs: [],
      graphics: { type: "vnc", listen: "127.0.0.1" },
      console: { type: "pty" },
      qemuAgent: true,
      // libvirt's own video card and balloon are read (and compared only when set); PS/2 is not.
      video: { model: "cirrus" },
      memoryBalloon: { model: "virtio" },
      inputs: [],
      spiceAgent: false,
      // The machine-level settings as libvirt wrote its defaults (xml-machine.ts).
      clock: { offset: "utc" },
      features: { acpi: true, apic: true, pae: false },
      memoryBacking: { hugepages: false, locked: false, noSharePages: false },
      onPoweroff: "destroy",
      onReboot: "restart",
      onCrash: "destroy",
      metadataElements: [],
      description: undefined,
      iothreads: undefined,
      sysinfo: undefined,
      title: undefined,
    });
  });

  it("reads back what the builder writes", () => {
    const plan = planDomain(guest, undefined, new Map([["images/root.qcow2", "qcow2" as const]]));
    const read = readDomainXml(buildDomainXml(plan));
    expect(read.disks).toEqual(plan.disks.map((disk) => expect.objectContaining(disk)));
    expect(read.networkInterfaces).toEqual([
      { network: "lab", model: "virtio", linkState: "up" },
      { bridge: "br0", mac: "52:54:00:aa:bb:cc", model: "e1000e", linkState: "up" },
    ]);
    expect(read.cloudInitDisk).toEqual({ path: "/var/lib/libvirt/images/seed.iso" });
    expect(read.console).toEqual({ type: "file", path: "/var/log/web-1.log" });
    expect(read).toMatchObject({
      memoryBytes: 128 << 20,
      maxMemoryBytes: 256 << 20,
      vcpu: 1,
      maxVcpus: 2,
      qemuAgent: true,
    });
  });

  it("reads UEFI from <os firmware='efi'> and from a pflash loader", () => {
    const efi = (os: string) =>
      readDomainXml(`<domain type='kvm'><name>x</name><memory>1024</memory>${os}</domain>`)
        .firmware;
    expect(efi("<os firmware='efi'><type>hvm</type></os>")).toBe("efi");
    expect(
      efi(
        "<os><type>hvm</type><loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader></os>",
      ),
    ).toBe("efi");
    expect(efi("<os><type>hvm</type></os>")).toBe("bios");
  });

  it("reads the display port from the live XML", () => {
    expect(
      readGraphicsPort(
        "<domain><devices><graphics type='vnc' port='5901' autoport='yes'/></devices></domain>",
      ),
    ).toBe(5901);
    expect(
      readGraphicsPort("<domain><devices><graphics type='vnc' port='-1'/></devices></domain>"),
    ).toBeUndefined();
  });
});
