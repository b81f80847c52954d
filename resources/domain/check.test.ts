import { Libvirt } from "../../rpc";
import { createProvider } from "../../provider/dispatch";
import { domainHandlers } from "./handlers";

const provider = createProvider(
  { handlers: { Domain: domainHandlers }, nouns: { Domain: "domain" } },
  { askHosts: false },
);
const good = { __kind: "Domain", __logicalName: "web", type: "qemu", memory: "128MiB" };

async function check(inputs: Record<string, unknown>) {
  return provider.check!({}, { ...good, ...inputs });
}

describe("check() of a Domain", () => {
  const connect = jest.spyOn(Libvirt, "connect");
  afterAll(() => {
    // Every bad input was refused before virtwire tried to reach libvirt.
    expect(connect).not.toHaveBeenCalled();
    connect.mockRestore();
  });

  it("accepts a full, valid domain and fills in the defaults", async () => {
    const { inputs, failures } = await check({
      vcpu: 1,
      maxVcpus: 4,
      maxMemory: "1GiB",
      kernel: "/boot/vmlinuz",
      cmdline: "console=ttyS0",
      disks: [{ volume: { pool: "default", name: "root" } }, { device: "cdrom" }],
      cloudInitDisk: { path: "/var/lib/libvirt/images/seed.iso" },
      networkInterfaces: [{ network: "default" }, { bridge: "br0", mac: "52:54:00:00:00:01" }],
      qemuAgent: true,
      waitForAddresses: { source: "any" },
      waitForCloudInit: {},
      xmlPatches: [
        {
          parent: "devices",
          xml: "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>",
        },
      ],
    });
    expect(failures).toEqual([]);
    expect(inputs).toMatchObject({
      name: expect.stringMatching(/^web-[0-9a-f]{7}$/),
      type: "qemu",
      firmware: "bios",
      running: true,
      autostart: false,
      allowRestart: true,
      shutdownTimeout: 60,
      waitForCloudInit: { timeout: 900 },
    });
  });

  it("checks what is known in a preview and leaves values not known yet alone", async () => {
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    for (const value of [
      { disks: unknown },
      { networkInterfaces: [unknown] },
      { boot: unknown },
      { qemuAgent: unknown, waitForCloudInit: {} },
    ]) {
      expect((await check(value)).failures).toEqual([]);
    }
    const seed = await check({
      cloudInitDisk: unknown,
      disks: [{ file: unknown }],
      memory: unknown,
    });
    expect(seed.failures).toEqual([]);
    const known = await check({ networkInterfaces: [unknown, { network: "n", bridge: "b" }] });
    expect(known.failures).toEqual([
      { property: "", reason: expect.stringMatching(/^networkInterfaces\[1\] needs exactly one/) },
    ]);
  });

  it("lets disks share an image they only read", async () => {
    const shared = await check({
      disks: [
        { file: "/img/base.raw", readOnly: true },
        { device: "cdrom", file: "/img/base.raw" },
      ],
    });
    expect(shared.failures).toEqual([]);
  });

  it("takes an IP address or a host name for the display to listen on", async () => {
    for (const listen of ["127.0.0.1", "::1", "0.0.0.0", "kvm1.example.com"]) {
      expect((await check({ graphics: { type: "vnc", listen } })).failures).toEqual([]);
    }
  });

  const bad: [string, Record<string, unknown>, string, RegExp][] = [
    ["an unknown hypervisor type", { type: "xen" }, "type", /one of "kvm", "qemu"/],
    ["a name libvirt refuses", { name: "web server" }, "name", /letters, digits/],
    ["a memory size that is not a size", { memory: "lots" }, "memory", /20GiB/],
    ["memory that is not whole KiB", { memory: 134217729 }, "memory", /whole number of KiB/],
    ["memory below 1MiB", { memory: "512KiB" }, "memory", /at least 1MiB; got 512KiB$/],
    [
      "memory in MiB as a bare number (bytes)",
      { memory: 512 },
      "memory",
      /^memory must be at least 1MiB; got 512 \(a bare number is bytes: for 512 MiB write "512MiB"\)$/,
    ],
    [
      "memory above maxMemory",
      { memory: "2GiB", maxMemory: "1GiB" },
      "memory",
      /more than maxMemory/,
    ],
    ["zero vCPUs", { vcpu: 0 }, "vcpu", /at least 1/],
    ["more vCPUs than maxVcpus", { vcpu: 4, maxVcpus: 2 }, "vcpu", /more than maxVcpus/],
    ["a misspelt property", { memroy: "1GiB" }, "memroy", /did you mean "memory"/],
    ["an unknown cpu mode", { cpu: { mode: "host" } }, "cpu.mode", /host-passthrough/],
    ["a custom cpu without a model", { cpu: { mode: "custom" } }, "cpu.model", /needs cpu.model/],
    [
      "a cpu model with another mode",
      { cpu: { mode: "maximum", model: "qemu64" } },
      "cpu.model",
      /only used with/,
    ],
    ["a relative kernel path", { kernel: "vmlinuz" }, "kernel", /absolute path/],
    // found by generated inputs (seed 1237546666, Domain case 2): "/" failed libvirt's schema
    [
      "a cloud-init path that is no file",
      { cloudInitDisk: { path: "/" } },
      "cloudInitDisk.path",
      /absolute path of a file/,
    ],
    [
      "a disk path with a line break",
      { disks: [{ file: "/a\nb.img" }] },
      "disks[0].file",
      /without tabs or line breaks/,
    ],
    [
      // XML turns a tab in an attribute into a space: QEMU would open another file
      "a console path with a tab",
      { console: { type: "file", path: "/var/log/a\tb.log" } },
      "console.path",
      /without tabs or line breaks/,
    ],
    [
      "a kernel path that is a directory",
      { kernel: "/boot/" },
      "kernel",
      /absolute path of a file/,
    ],
    // found by generated inputs (seed 1237546666, Domain case 13): QEMU's "Failed to get write lock"
    [
      "one image on two writable disks",
      { disks: [{ file: "/img/a.qcow2", format: "qcow2" }, { file: "/img//a.qcow2" }] },
      "disks[1]",
      /disks\[1\] uses the image of disks\[0\] too, and QEMU locks an image a disk writes/,
    ],
    [
      "a volume as a writable disk and a cdrom",
      {
        disks: [
          { device: "cdrom", volume: { pool: "p", name: "v" } },
          { volume: { pool: "p", name: "v" } },
        ],
      },
      "disks[1]",
      /uses the image of disks\[0\] too/,
    ],
    [
      "the cloud-init disk as a writable disk",
      { disks: [{ file: "/img/seed.iso" }], cloudInitDisk: { path: "/img/seed.iso" } },
      "cloudInitDisk",
      /cloudInitDisk uses the image of disks\[0\] too/,
    ],
    // found by generated inputs (seed 1886195852, Domain case 8): libvirt's schema refused it at up
    [
      "a display listening on no address",
      { graphics: { type: "spice", listen: "(" } },
      "graphics.listen",
      /graphics.listen "\(" is not an IP address or host name/,
    ],
    // found by generated inputs (seed 365907875, Domain case 8, libvirt 11): refused at up
    [
      "an ide disk on a q35 machine",
      { machine: "q35", disks: [{ file: "/a.img", bus: "ide" }] },
      "disks[0].bus",
      /disks\[0\]\.bus ide: machine q35 has no IDE controller; use bus sata/,
    ],
    ["an initrd without a kernel", { initrd: "/boot/initrd.gz" }, "initrd", /set kernel too/],
    ["an unknown boot device", { boot: ["usb"] }, "boot[0]", /"hd", "cdrom", "network"/],
    ["a boot device twice", { boot: ["hd", "hd"] }, "boot[1]", /a second time/],
    ["a disk without a source", { disks: [{ bus: "virtio" }] }, "disks[0]", /no source/],
    [
      "a disk with two sources",
      { disks: [{ file: "/a.img", volume: { pool: "p", name: "v" } }] },
      "disks[0]",
      /has volume and file: give one source/,
    ],
    [
      "a volume without its pool",
      { disks: [{ volume: { name: "v" } }] },
      "disks[0].volume.pool",
      /required/,
    ],
    [
      "an unknown disk bus",
      { disks: [{ file: "/a.img", bus: "usb" }] },
      "disks[0].bus",
      /"virtio", "sata"/,
    ],
    [
      // found by generated inputs (seed 713360435, Domain case 4): refused by libvirt at up
      "a read-only sata disk",
      { disks: [{ file: "/a.img", bus: "sata", readOnly: true }] },
      "disks[0].readOnly",
      /QEMU has no read-only sata disks; use bus virtio or scsi, or device cdrom/,
    ],
    [
      "a read-only ide disk",
      { disks: [{ file: "/a.img", bus: "ide", readOnly: true }] },
      "disks[0].readOnly",
      /no read-only ide disks/,
    ],
    [
      "a target that does not fit the bus",
      { disks: [{ file: "/a.img", target: "sdb" }] },
      "disks[0].target",
      /starting with vd/,
    ],
    [
      "a target used twice",
      {
        disks: [
          { file: "/a.img", target: "vdb" },
          { file: "/b.img", target: "vdb" },
        ],
      },
      "disks[1].target",
      /already used/,
    ],
    [
      "a virtio CD-ROM",
      { disks: [{ device: "cdrom", bus: "virtio" }] },
      "disks[0].bus",
      /cannot be on the virtio bus/,
    ],
    [
      "a writable CD-ROM",
      { disks: [{ device: "cdrom", readOnly: false }] },
      "disks[0].readOnly",
      /always read-only/,
    ],
    [
      "a cloud-init seed with a pool but no name",
      { cloudInitDisk: { pool: "default" } },
      "cloudInitDisk",
      /path, or both pool and name/,
    ],
    [
      "an interface on both a network and a bridge",
      { networkInterfaces: [{ network: "n", bridge: "br0" }] },
      "networkInterfaces[0]",
      /exactly one/,
    ],
    [
      "a malformed MAC",
      { networkInterfaces: [{ network: "n", mac: "52:54:00:zz:00:01" }] },
      "networkInterfaces[0].mac",
      /MAC address/,
    ],
    [
      "a multicast MAC",
      { networkInterfaces: [{ network: "n", mac: "01:00:5e:00:00:01" }] },
      "networkInterfaces[0].mac",
      /multicast/,
    ],
    [
      "a MAC used twice",
      {
        networkInterfaces: [
          { network: "n", mac: "52:54:00:00:00:01" },
          { network: "n", mac: "52:54:00:00:00:01" },
        ],
      },
      "networkInterfaces[1].mac",
      /already used/,
    ],
    [
      "a display port below 5900",
      { graphics: { type: "vnc", port: 80 } },
      "graphics.port",
      /at least 5900/,
    ],
    [
      "a file console without a path",
      { console: { type: "file" } },
      "console.path",
      /needs console.path/,
    ],
    ["a shutdown timeout below zero", { shutdownTimeout: -1 }, "shutdownTimeout", /at least 0/],
    [
      "agent addresses without the agent",
      { networkInterfaces: [{ network: "n" }], waitForAddresses: { source: "agent" } },
      "waitForAddresses.source",
      /needs qemuAgent: true/,
    ],
    [
      "lease addresses on a bridge",
      { networkInterfaces: [{ bridge: "br0" }], waitForAddresses: { source: "lease" } },
      "waitForAddresses.source",
      /DHCP leases only on its own networks/,
    ],
    [
      "waiting for addresses with no interface",
      { waitForAddresses: {} },
      "waitForAddresses",
      /at least one entry/,
    ],
    [
      "waiting for addresses of a stopped domain",
      { running: false, networkInterfaces: [{ network: "n" }], waitForAddresses: {} },
      "waitForAddresses",
      /running: true/,
    ],
    [
      "waiting for cloud-init without the guest agent",
      { waitForCloudInit: {} },
      "waitForCloudInit",
      /needs qemuAgent: true.*set qemuAgent: true on this Domain/,
    ],
    [
      "waiting for cloud-init of a stopped domain",
      { running: false, qemuAgent: true, waitForCloudInit: { timeout: 60 } },
      "waitForCloudInit",
      /running: true/,
    ],
    [
      "a cloud-init wait of more than two hours",
      { qemuAgent: true, waitForCloudInit: { timeout: 7201 } },
      "waitForCloudInit.timeout",
      /at most 7200/,
    ],
    [
      "an XML patch that is not well-formed",
      { xmlPatches: [{ parent: "devices", xml: "<rng><backend></rng>" }] },
      "xmlPatches[0].xml",
      /not well-formed/,
    ],
    [
      "an XML patch adding a managed device",
      { xmlPatches: [{ parent: "devices", xml: "<disk type='file'/>" }] },
      "xmlPatches[0].xml",
      /use disks or cloudInitDisk/,
    ],
    [
      "an XML patch inside a device",
      { xmlPatches: [{ parent: "devices/disk", xml: "<serial>x</serial>" }] },
      "xmlPatches[0].parent",
      /inside a device/,
    ],
    [
      "an XML patch replacing the memory",
      { xmlPatches: [{ parent: ".", xml: "<memory>1</memory>" }] },
      "xmlPatches[0].xml",
      /use maxMemory/,
    ],
  ];

  it.each(bad)("refuses %s", async (...[, inputs, path, reason]) => {
    const failures = (await check(inputs)).failures ?? [];
    // One line for the engine: no property (whose value it would dump), the path first.
    expect(failures).toEqual([expect.objectContaining({ property: "" })]);
    expect(failures[0]!.reason).toMatch(reason);
    expect(failures[0]!.reason.startsWith(path)).toBe(true);
  });
});
