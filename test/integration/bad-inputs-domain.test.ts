// Bad Domain inputs as a user writes them, previewed through the real plugin against the test bed:
// schema and rule failures, and what only the host can tell (the architectures and machine types
// it runs, the XML patches libvirt takes), each refused at preview with one line per problem, and
// nothing appears in libvirt.
import { BadInput, describeBadInputs } from "../support/bad-inputs";
import { uniqueName } from "../support/testbed";

const run = uniqueName("bad");

const vm = (args: Record<string, unknown>): BadInput["args"] => ({
  type: "qemu",
  memory: "128MiB",
  running: false,
  ...args,
});
const disk = (fields: Record<string, unknown>) => ({ disks: [fields] });
const rng = "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>";
const patch = (parent: string, xml: string) => ({ parent, xml });

const cases: BadInput[] = [
  {
    what: "a misspelt property",
    kind: "Domain",
    args: vm({ memry: "1GiB" }),
    problems: [/^memry is not a property of Domain; did you mean "memory"\?/],
  },
  {
    what: "a misspelt property of a disk's volume",
    kind: "Domain",
    args: vm(disk({ volume: { pool: "default", nmae: "root" } })),
    problems: [
      /^disks\[0\]\.volume\.name is required/,
      /^disks\[0\]\.volume\.nmae is not a property of DomainVolumeRef; did you mean "name"\?/,
    ],
  },
  {
    what: "an unknown hypervisor",
    kind: "Domain",
    args: vm({ type: "xen" }),
    problems: [/^type must be one of "kvm", "qemu"; got "xen"/],
  },
  {
    what: "memory that is not a size",
    kind: "Domain",
    args: vm({ memory: "lots" }),
    problems: [/^memory "lots" is not a size: use a number of bytes/],
  },
  {
    what: "memory too large",
    kind: "Domain",
    args: vm({ memory: "100000PiB" }),
    problems: [/^memory "100000PiB" is more than the largest size virtwire handles/],
  },
  {
    what: "memory that is not whole KiB",
    kind: "Domain",
    args: vm({ memory: 134217729 }),
    problems: [/^memory 134217729 is not a whole number of KiB/],
  },
  {
    what: "memory over maxMemory",
    kind: "Domain",
    args: vm({ memory: "1GiB", maxMemory: "512MiB" }),
    problems: [/^memory 1GiB is more than maxMemory 512MiB: raise maxMemory or lower memory/],
  },
  {
    what: "vcpu over maxVcpus",
    kind: "Domain",
    args: vm({ vcpu: 4, maxVcpus: 2 }),
    problems: [/^vcpu 4 is more than maxVcpus 2/],
  },
  {
    what: "no vcpu",
    kind: "Domain",
    args: vm({ vcpu: 0 }),
    problems: [/^vcpu must be at least 1; got 0/],
  },
  {
    what: "a shutdown timeout over an hour",
    kind: "Domain",
    args: vm({ shutdownTimeout: 99999 }),
    problems: [/^shutdownTimeout must be at most 3600; got 99999/],
  },
  {
    what: "an initrd without a kernel",
    kind: "Domain",
    args: vm({ initrd: "/boot/initrd" }),
    problems: [/^initrd is only used for direct kernel boot: set kernel too/],
  },
  {
    what: "a relative kernel path",
    kind: "Domain",
    args: vm({ kernel: "vmlinuz" }),
    problems: [
      /^kernel "vmlinuz" is not valid: use the absolute path of a file on the libvirt host/,
    ],
  },
  {
    what: "a custom CPU without a model",
    kind: "Domain",
    args: vm({ cpu: { mode: "custom" } }),
    problems: [/^cpu\.model: cpu\.mode "custom" needs cpu\.model/],
  },
  {
    what: "a disk with two sources",
    kind: "Domain",
    args: vm(disk({ volume: { pool: "p", name: "v" }, file: "/x.img" })),
    problems: [/^disks\[0\] has volume and file: give one source/],
  },
  {
    what: "a disk without a source",
    kind: "Domain",
    args: vm(disk({})),
    problems: [/^disks\[0\] has no source: give volume/],
  },
  {
    what: "a cdrom on virtio",
    kind: "Domain",
    args: vm(disk({ device: "cdrom", bus: "virtio" })),
    problems: [/^disks\[0\]\.bus virtio: a cdrom cannot be on the virtio bus/],
  },
  {
    what: "a target that does not fit its bus",
    kind: "Domain",
    args: vm(disk({ file: "/x.img", target: "sda" })),
    problems: [/^disks\[0\]\.target sda does not fit bus virtio: use a name starting with vd/],
  },
  {
    what: "a target used twice",
    kind: "Domain",
    args: vm({
      disks: [
        { file: "/a.img", target: "vdb" },
        { file: "/b.img", target: "vdb" },
      ],
    }),
    problems: [/^disks\[1\]\.target vdb is already used by disks\[0\]/],
  },
  {
    what: "an interface on a network and a bridge",
    kind: "Domain",
    args: vm({ networkInterfaces: [{ network: "n", bridge: "br0" }] }),
    problems: [/^networkInterfaces\[0\] needs exactly one of network/],
  },
  {
    what: "a multicast MAC",
    kind: "Domain",
    args: vm({ networkInterfaces: [{ network: "n", mac: "01:00:5e:00:00:01" }] }),
    problems: [/^networkInterfaces\[0\]\.mac 01:00:5e:00:00:01 is a multicast address/],
  },
  {
    what: "a MAC used twice",
    kind: "Domain",
    args: vm({
      networkInterfaces: [
        { network: "n", mac: "52:54:00:00:00:01" },
        { network: "m", mac: "52:54:00:00:00:01" },
      ],
    }),
    problems: [
      /^networkInterfaces\[1\]\.mac 52:54:00:00:00:01 is already used by networkInterfaces\[0\]/,
    ],
  },
  {
    what: "a file console without a path",
    kind: "Domain",
    args: vm({ console: { type: "file" } }),
    problems: [/^console\.path: console\.type "file" needs console\.path/],
  },
  {
    what: "waiting for addresses of a stopped domain",
    kind: "Domain",
    args: vm({ waitForAddresses: {}, networkInterfaces: [{ network: "n" }] }),
    problems: [/^waitForAddresses needs running: true/],
  },
  {
    what: "waiting for the agent without one",
    kind: "Domain",
    args: vm({
      running: true,
      waitForAddresses: { source: "agent" },
      networkInterfaces: [{ network: "n" }],
    }),
    problems: [/^waitForAddresses\.source "agent" needs qemuAgent: true/],
  },
  {
    what: "waiting for cloud-init without the agent",
    kind: "Domain",
    args: vm({ running: true, qemuAgent: false, waitForCloudInit: {} }),
    problems: [/^waitForCloudInit needs qemuAgent: true/],
  },
  {
    what: "a boot device twice",
    kind: "Domain",
    args: vm({ boot: ["hd", "cdrom", "hd"] }),
    problems: [/^boot\[2\] lists hd a second time/],
  },
  {
    what: "a patch that is not XML",
    kind: "Domain",
    args: vm({ xmlPatches: [patch("devices", "<rng><backend></rng>")] }),
    problems: [/^xmlPatches\[0\]\.xml is not well-formed XML: <\/rng> closes <backend>/],
  },
  {
    what: "a patch adding a managed device",
    kind: "Domain",
    args: vm({ xmlPatches: [patch("devices", "<disk type='file'/>")] }),
    problems: [
      /^xmlPatches\[0\]\.xml adds <disk> under devices, which virtwire manages: use disks or cloudInitDisk/,
    ],
  },
  // What only the host can tell.
  {
    what: "a patch libvirt refuses (the second of two)",
    kind: "Domain",
    args: vm({ xmlPatches: [patch("devices", rng), patch("devices", "<watchdog model='nope'/>")] }),
    problems: [
      // libvirt 9 refuses the model as unsupported, libvirt 11 already when it parses the XML.
      /^xmlPatches\[1\] \(<watchdog> under devices\) is refused by libvirt: .*watchdog.*'nope'.*\(VIR_ERR_(CONFIG_UNSUPPORTED|XML_ERROR)\); fix or remove this patch/,
    ],
  },
  {
    what: "a feature libvirt does not know",
    kind: "Domain",
    args: vm({ xmlPatches: [patch("features", "<bogus/>")] }),
    problems: [/^xmlPatches\[0\] \(<bogus> under features\) is refused by libvirt: .*'bogus'/],
  },
  {
    what: "an architecture the host cannot run",
    kind: "Domain",
    args: vm({ arch: "aarch64" }),
    problems: [
      /^arch aarch64: libvirt on this host cannot run aarch64 guests \(it can run i686, x86_64\); use one of those, or install the QEMU emulator for aarch64/,
    ],
  },
  {
    what: "a machine type the host does not have",
    kind: "Domain",
    args: vm({ machine: "q53" }),
    problems: [
      /^machine "q53" is not a machine type of qemu x86_64 guests on this host: did you mean "q35"\? use e\.g\. q35 or pc/,
    ],
  },
  {
    what: "more vCPUs than any machine takes",
    kind: "Domain",
    args: vm({ vcpu: 1000 }),
    problems: [
      // libvirt 9's capabilities cap every machine type below 1000 vCPUs; libvirt 11's do not, and
      // its check of the domain's settings refuses the default machine type's limit instead.
      /^vcpu 1000 is more than any machine type of qemu x86_64 guests on this host takes \(288\): use at most 288$|^libvirt on this host refuses this domain's settings: unsupported configuration: Maximum CPUs greater than specified machine type limit \d+ \(VIR_ERR_CONFIG_UNSUPPORTED\)/,
    ],
  },
  {
    what: "host CPU passthrough without KVM",
    kind: "Domain",
    args: vm({ cpu: { mode: "host-passthrough" } }),
    problems: [
      /^cpu\.mode "host-passthrough" needs KVM, and type is "qemu" \(emulation\): use cpu\.mode "maximum"/,
    ],
  },
  {
    what: "a CPU model QEMU does not have",
    kind: "Domain",
    args: vm({ cpu: { mode: "custom", model: "Skylake-Clientt" } }),
    problems: [
      /^cpu is refused by libvirt on this host: .*Skylake-Clientt \(VIR_ERR_INTERNAL_ERROR\); change or remove cpu$/,
    ],
  },
  {
    what: "more vCPUs than the machine takes",
    kind: "Domain",
    args: vm({ machine: "isapc", vcpu: 2 }),
    problems: [
      /^vcpu 2 is more than machine isapc takes \(1\): use at most 1, or another machine type/,
    ],
  },
];

describeBadInputs("a bad Domain input", run, cases, (virtwire) => {
  it("with patches libvirt takes passes the preview", async () => {
    const name = `${run}-good`;
    const args = vm({ xmlPatches: [patch("devices", rng), patch("features", "<pae/>")] });
    const step = await virtwire().engine.preview("pulumi-nodejs:dynamic/virtwire:Domain", name, {
      __kind: "Domain",
      __logicalName: name,
      ...args,
    });
    expect(step.step).toBe("create");
  });
});
