import { Libvirt } from "../../rpc";
import { createProvider } from "../../provider/dispatch";
import type { DomainDisk, DomainInputs, DomainOutputs } from "../kit/generated/types";
import { classifyChanges } from "./diff";
import { domainHandlers } from "./handlers";
import { planDomain } from "./plan";
import { buildDomainXml } from "./xml-build";
import { readDomainXml } from "./xml-read";

const UUID = "6a3d2b5e-0c43-4b5f-9d2e-7f1a2b3c4d5e";
const nbd: DomainDisk = {
  network: { protocol: "nbd", name: "data", hosts: [{ name: "127.0.0.1", port: 10809 }] },
};
const iscsi: DomainDisk = {
  network: {
    protocol: "iscsi",
    name: "iqn.2024-01.org.example:disk/1",
    hosts: [{ name: "192.0.2.10" }],
    auth: { username: "chap", secretUsage: "libvirtiscsi" },
  },
};
const rbd: DomainDisk = {
  network: {
    protocol: "rbd",
    name: "vms/web",
    hosts: [{ name: "192.0.2.1" }, { name: "192.0.2.2", port: 6789 }],
    auth: { username: "libvirt", secretUuid: UUID },
  },
};
const domain = (disks: DomainDisk[]): DomainInputs => ({
  name: "web-1",
  type: "qemu",
  vcpu: 1,
  memory: "128MiB",
  disks,
});

describe("network disks and block devices in the domain XML", () => {
  const xml = buildDomainXml(
    planDomain(domain([nbd, iscsi, rbd, { block: "/dev/vg0/data" }]), undefined, new Map()),
  );

  it("writes each kind of source as libvirt documents it", () => {
    expect(xml).toMatch(
      /<disk type="network" device="disk">[\s\S]*?<source protocol="nbd" name="data">\s*<host name="127.0.0.1" port="10809"\/>/,
    );
    expect(xml).toMatch(
      /<auth username="chap">\s*<secret type="iscsi" usage="libvirtiscsi"\/>\s*<\/auth>/,
    );
    expect(xml).toMatch(/<auth username="libvirt">\s*<secret type="ceph" uuid="6a3d2b5e-/);
    expect(xml).toMatch(
      /<disk type="block" device="disk">[\s\S]*?<source dev="\/dev\/vg0\/data"\/>/,
    );
  });

  it("reads them back as they were given", () => {
    expect(readDomainXml(xml).disks).toEqual([
      expect.objectContaining(nbd),
      expect.objectContaining(iscsi),
      expect.objectContaining(rbd),
      expect.objectContaining({ block: "/dev/vg0/data" }),
    ]);
  });

  it("reads auth where older libvirt wrote it, beside the source", () => {
    const old = `<domain type='qemu'><name>x</name><devices><disk type='network' device='disk'>
      <auth username='chap'><secret type='iscsi' uuid='${UUID}'/></auth>
      <source protocol='iscsi' name='iqn.2024-01.org.example:disk/1'><host name='192.0.2.10'/></source>
      <target dev='vda' bus='virtio'/></disk></devices></domain>`;
    expect(readDomainXml(old).disks[0]!.network!.auth).toEqual({
      username: "chap",
      secretUuid: UUID,
    });
  });

  it("takes a file below /dev as the block device it reads back as", () => {
    const current = {
      ...readDomainXml(xml),
      running: false,
      disks: [
        {
          block: "/dev/loop7",
          device: "disk",
          bus: "virtio",
          target: "vda",
          readOnly: false,
          format: "raw",
        },
      ],
    } as unknown as DomainOutputs;
    const changes = classifyChanges(current, {
      ...domain([{ file: "/dev/loop7", format: "raw" }]),
      running: false,
      console: current.console,
    }).changes.filter((change) => change.property === "disks");
    expect(changes).toEqual([]);
  });
});

describe("check() of a network disk", () => {
  const provider = createProvider(
    { handlers: { Domain: domainHandlers }, nouns: { Domain: "domain" } },
    { askHosts: false },
  );
  const connect = jest.spyOn(Libvirt, "connect");
  afterAll(() => {
    expect(connect).not.toHaveBeenCalled();
    connect.mockRestore();
  });
  const reasons = async (disk: DomainDisk) =>
    (
      (await provider.check!({}, { __kind: "Domain", __logicalName: "web", ...domain([disk]) }))
        .failures ?? []
    ).map((failure) => failure.reason);

  it("accepts NBD, iSCSI and RBD disks", async () => {
    for (const disk of [nbd, iscsi, rbd]) expect(await reasons(disk)).toEqual([]);
  });

  const bad: [string, DomainDisk, RegExp][] = [
    ["two sources", { ...nbd, file: "/a" }, /disks\[0\] has file and network: give one source/],
    [
      "an iSCSI disk without a name",
      { network: { protocol: "iscsi", hosts: [{ name: "192.0.2.10" }] } },
      /disks\[0\]\.network: iscsi needs name/,
    ],
    [
      "two NBD servers",
      { network: { protocol: "nbd", hosts: [{ name: "a" }, { name: "b" }] } },
      /nbd takes one server/,
    ],
    [
      "auth without a secret",
      { network: { ...rbd.network!, auth: { username: "libvirt" } } },
      /auth needs the libvirt secret by secretUuid or by secretUsage/,
    ],
    [
      "auth on NBD",
      { network: { ...nbd.network!, auth: { username: "u", secretUuid: UUID } } },
      /remove auth for nbd/,
    ],
    [
      "a secret UUID in capitals",
      { network: { ...rbd.network!, auth: { username: "u", secretUuid: UUID.toUpperCase() } } },
      /secretUuid/,
    ],
  ];
  it.each(bad)("refuses %s, naming the property and the fix", async (_, disk, reason) => {
    expect(await reasons(disk)).toEqual([expect.stringMatching(reason)]);
  });
});
