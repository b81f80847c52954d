import { Libvirt } from "../../rpc";
import { createProvider } from "../../provider/dispatch";
import type { DomainDisk, DomainInputs, DomainOutputs } from "../kit/generated/types";
import { classifyChanges } from "./diff";
import { domainHandlers } from "./handlers";
import { planDomain } from "./plan";
import { buildDomainXml, diskXml } from "./xml-build";
import { readDomainXml } from "./xml-read";

const tuned: DomainDisk = {
  file: "/var/lib/libvirt/images/data.img",
  format: "raw",
  cache: "none",
  io: "native",
  discard: "unmap",
  detectZeroes: "unmap",
  serial: "data-01",
  shareable: true,
  bootOrder: 1,
  iotune: { totalBytesSec: 10485760, totalBytesSecMax: 20971520, readIopsSec: 200 },
};

const domain: DomainInputs = {
  name: "web-1",
  type: "qemu",
  vcpu: 1,
  memory: "128MiB",
  disks: [tuned, { file: "/dev/sdz", bus: "scsi", wwn: "5000c50015ea71ac" }],
};

describe("a disk's tuning in the domain XML", () => {
  const xml = buildDomainXml(planDomain(domain, undefined, new Map()));

  it("is written where libvirt reads it", () => {
    expect(xml).toContain(
      '<driver name="qemu" type="raw" cache="none" io="native" discard="unmap" detect_zeroes="unmap"/>',
    );
    expect(xml).toMatch(/<iotune>\s*<total_bytes_sec>10485760<\/total_bytes_sec>/);
    expect(xml).toContain("<total_bytes_sec_max>20971520</total_bytes_sec_max>");
    expect(xml).toContain("<read_iops_sec>200</read_iops_sec>");
    expect(xml).toContain('<boot order="1"/>');
    expect(xml).toContain("<shareable/>");
    expect(xml).toContain("<serial>data-01</serial>");
    expect(xml).toContain("<wwn>5000c50015ea71ac</wwn>");
  });

  it("reads back as it was given", () => {
    const [first, second] = readDomainXml(xml).disks;
    expect(first).toMatchObject(tuned);
    expect(second).toMatchObject({ block: "/dev/sdz", wwn: "5000c50015ea71ac" });
    expect(second!.cache).toBeUndefined();
    expect(second!.iotune).toBeUndefined();
  });

  it("is part of a hot-plugged disk too", () => {
    expect(diskXml({ ...tuned, device: "disk" })).toContain("<serial>data-01</serial>");
  });
});

describe("changes to a disk's tuning", () => {
  const current = {
    ...({} as DomainOutputs),
    name: "web-1",
    type: "qemu",
    vcpu: 1,
    maxVcpus: 1,
    memory: "128MiB",
    maxMemory: "128MiB",
    firmware: "bios",
    disks: [{ ...tuned, device: "disk", bus: "virtio", target: "vda", readOnly: false }],
    networkInterfaces: [],
    qemuAgent: false,
    spiceAgent: false,
    inputs: [],
    autostart: false,
    running: true,
    shutdownTimeout: 60,
    allowRestart: true,
    console: { type: "pty" },
  } as DomainOutputs;
  const withDisk = (disk: DomainDisk): DomainInputs => ({ ...domain, disks: [disk] });
  const classes = (disk: DomainDisk) =>
    classifyChanges(current, withDisk(disk)).changes.map((c) => `${c.class}: ${c.detail}`);

  it("sees none when the disk reads back as given", () => {
    expect(classes(tuned)).toEqual([]);
  });

  it("applies new I/O limits live, and their removal too", () => {
    expect(classes({ ...tuned, iotune: { totalBytesSec: 1048576 } })).toEqual([
      "live: disks: vda iotune changed",
    ]);
    expect(classes({ ...tuned, iotune: undefined })).toEqual(["live: disks: vda iotune changed"]);
  });

  it("restarts for any other setting, a removed one too", () => {
    expect(classes({ ...tuned, cache: "directsync" })).toEqual(["restart: disks: vda changed"]);
    expect(classes({ ...tuned, serial: undefined })).toEqual(["restart: disks: vda changed"]);
  });

  it("takes shareable false as no shareable element", () => {
    const plain = { file: tuned.file, format: "raw", device: "disk", bus: "virtio" } as const;
    const from = { ...current, disks: [{ ...plain, target: "vda", readOnly: false }] };
    expect(classifyChanges(from, withDisk({ ...plain, shareable: false })).changes).toEqual([]);
  });
});

describe("check() of a disk's tuning", () => {
  const provider = createProvider(
    { handlers: { Domain: domainHandlers }, nouns: { Domain: "domain" } },
    { askHosts: false },
  );
  const connect = jest.spyOn(Libvirt, "connect");
  afterAll(() => {
    expect(connect).not.toHaveBeenCalled();
    connect.mockRestore();
  });
  const check = async (disk: DomainDisk, more: Partial<DomainInputs> = {}) =>
    (
      await provider.check!(
        {},
        { __kind: "Domain", __logicalName: "web", ...domain, ...more, disks: [disk] },
      )
    ).failures ?? [];

  it("accepts a fully tuned disk", async () => {
    expect(await check(tuned)).toEqual([]);
  });

  const bad: [string, DomainDisk, RegExp, Partial<DomainInputs>][] = [
    [
      "io native on the host cache",
      { file: "/a", io: "native" },
      /disks\[0\]\.io native needs cache none/,
      {},
    ],
    [
      "zero detection that unmaps without discard",
      { file: "/a", detectZeroes: "unmap" },
      /disks\[0\]\.detectZeroes unmap needs discard unmap/,
      {},
    ],
    [
      "a WWN on virtio",
      { file: "/a", wwn: "5000c50015ea71ac" },
      /disks\[0\]\.wwn: only disks on bus scsi or ide/,
      {},
    ],
    [
      "a shared qcow2 image",
      { file: "/a", format: "qcow2", shareable: true },
      /disks\[0\]\.shareable: QEMU shares only raw images/,
      {},
    ],
    [
      "a total and a read limit",
      { file: "/a", iotune: { totalIopsSec: 1, readIopsSec: 1 } },
      /totalIopsSec and readIopsSec cannot both be set/,
      {},
    ],
    [
      "a burst without its base",
      { file: "/a", iotune: { writeBytesSecMax: 10 } },
      /writeBytesSecMax needs writeBytesSec/,
      {},
    ],
    [
      "a burst below its base",
      { file: "/a", iotune: { readBytesSec: 10, readBytesSecMax: 5 } },
      /a burst limit must be at least its base limit/,
      {},
    ],
    [
      "a boot order beside the boot list",
      { file: "/a", bootOrder: 1 },
      /disks\[0\]\.bootOrder: .*remove boot/,
      { boot: ["hd"] },
    ],
    ["a serial with a space", { file: "/a", serial: "a b" }, /disks\[0\]\.serial/, {}],
    [
      "an I/O thread the domain does not have",
      { file: "/a", iothread: 2 },
      /disks\[0\]\.iothread 2 is not one of the domain's I\/O threads \(iothreads is 1\)/,
      { iothreads: 1 },
    ],
    [
      "an I/O thread for a SATA disk",
      { file: "/a", bus: "sata", iothread: 1 },
      /disks\[0\]\.iothread: only virtio disks take an I\/O thread/,
      { iothreads: 1 },
    ],
  ];
  it.each(bad)("refuses %s, naming the property and the fix", async (_, disk, reason, more) => {
    const failures = await check(disk, more);
    expect(failures.map((failure) => failure.reason)).toEqual([expect.stringMatching(reason)]);
  });

  it("refuses one boot order given to two disks", async () => {
    const failures =
      (
        await provider.check!(
          {},
          {
            __kind: "Domain",
            __logicalName: "web",
            ...domain,
            disks: [
              { file: "/a", bootOrder: 2 },
              { file: "/b", bootOrder: 2 },
            ],
          },
        )
      ).failures ?? [];
    expect(failures.map((failure) => failure.reason)).toEqual([
      expect.stringMatching(/disks\[1\]\.bootOrder 2 is already disks\[0\]'s/),
    ]);
  });
});
