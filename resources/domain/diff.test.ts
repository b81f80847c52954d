import type { DomainInputs, DomainOutputs } from "../kit/generated/types";
import type { ResourceContext } from "../kit/resource";
import { ChangeClass, classifyChanges } from "./diff";
import { domainHandlers, summary } from "./handlers";

/** A running domain as read back from libvirt (outputs), after `inputs` below were applied. */
const current: DomainOutputs = {
  name: "web-1",
  type: "qemu",
  vcpu: 1,
  maxVcpus: 2,
  memory: "128MiB",
  maxMemory: "256MiB",
  machine: "pc-i440fx-7.2",
  arch: "x86_64",
  firmware: "bios",
  kernel: "/boot/vmlinuz",
  disks: [
    {
      device: "disk",
      bus: "virtio",
      target: "vda",
      readOnly: false,
      volume: { pool: "images", name: "root" },
      format: "qcow2",
    },
    {
      device: "cdrom",
      bus: "sata",
      target: "sda",
      readOnly: true,
      file: "/isos/a.iso",
      format: "raw",
    },
  ],
  networkInterfaces: [
    { network: "lab", mac: "52:54:00:00:00:01", model: "virtio" },
    { bridge: "br0", mac: "52:54:00:00:00:02", model: "virtio" },
  ],
  hostdevs: [],
  graphics: { type: "vnc", listen: "127.0.0.1" },
  console: { type: "pty" },
  qemuAgent: false,
  spiceAgent: false,
  inputs: [],
  autostart: false,
  running: true,
  shutdownTimeout: 60,
  allowRestart: true,
  uuid: "ad2e6c6d-cfc6-4576-905d-e2bed48c98f4",
  state: "running",
  macAddresses: ["52:54:00:00:00:01", "52:54:00:00:00:02"],
  interfaces: [],
};

/** What the user wrote (after check's defaults) for that domain. */
const inputs: DomainInputs = {
  name: "web-1",
  type: "qemu",
  vcpu: 1,
  maxVcpus: 2,
  memory: 134217728,
  maxMemory: "0.25GiB",
  machine: "pc",
  firmware: "bios",
  kernel: "/boot/vmlinuz",
  disks: [{ device: "cdrom", file: "/isos/a.iso" }, { volume: { pool: "images", name: "root" } }],
  networkInterfaces: [{ network: "lab" }, { bridge: "br0" }],
  graphics: { type: "vnc" },
  qemuAgent: false,
  autostart: false,
  running: true,
  shutdownTimeout: 60,
  allowRestart: true,
};

const classes = (news: DomainInputs, from: DomainOutputs = current) =>
  classifyChanges(from, news).changes.map((change) => [change.property, change.class]);

describe("the change classifier", () => {
  it("sees no change where libvirt only spelled things its own way", () => {
    expect(classes(inputs)).toEqual([]);
    expect(domainHandlers.diff!("id", current, inputs)).toEqual({
      changes: false,
      replaces: [],
      classes: {},
      deleteBeforeReplace: true,
    });
  });

  const table: [string, Partial<DomainInputs>, [string, ChangeClass][], Partial<DomainOutputs>?][] =
    [
      ["a new name replaces", { name: "web-2" }, [["name", "replace"]]],
      ["another hypervisor type replaces", { type: "kvm" }, [["type", "replace"]]],
      ["another machine type replaces", { machine: "q35" }, [["machine", "replace"]]],
      ["the expanded machine name is no change", { machine: "pc-i440fx-7.2" }, []],
      ["another firmware replaces", { firmware: "efi" }, [["firmware", "replace"]]],
      ["another arch replaces", { arch: "aarch64" }, [["arch", "replace"]]],
      ["another host replaces", { host: "other" }, [["host", "replace"]]],
      ["memory within maxMemory is live", { memory: "192MiB" }, [["memory", "live"]]],
      [
        "memory without a balloon restarts",
        { memory: "192MiB", memoryBalloon: { model: "none" } },
        [
          ["memory", "restart"],
          ["memoryBalloon", "restart"],
        ],
      ],
      [
        "memory above the old ceiling restarts",
        { memory: "384MiB", maxMemory: "512MiB" },
        [
          ["maxMemory", "restart"],
          ["memory", "restart"],
        ],
      ],
      [
        "memory without a ceiling restarts, and is the only change named",
        { memory: "192MiB", maxMemory: undefined },
        [["memory", "restart"]],
      ],
      ["removing the ceiling restarts", { maxMemory: undefined }, [["maxMemory", "restart"]]],
      [
        "vCPUs without a maximum restart, and are the only change named",
        { vcpu: 3, maxVcpus: undefined },
        [["vcpu", "restart"]],
      ],
      ["one more vCPU within maxVcpus is live", { vcpu: 2 }, [["vcpu", "live"]]],
      ["fewer vCPUs restart", { vcpu: 1 }, [["vcpu", "restart"]], { vcpu: 2 }],
      [
        "a new disk is attached live",
        { disks: [...inputs.disks!, { file: "/data.img" }] },
        [["disks", "live"]],
      ],
      [
        "a removed disk is detached by a restart, never pulled from the running guest",
        { disks: [inputs.disks![1]!] },
        [["disks", "restart"]],
      ],
      [
        "a removed disk of a shut-off domain is an offline change",
        { disks: [inputs.disks![1]!], running: false },
        [
          ["disks", "offline"],
          ["running", "power"],
        ],
      ],
      [
        "a new volume for the boot disk restarts, never swapped live",
        { disks: [inputs.disks![0]!, { volume: { pool: "images", name: "root-2" } }] },
        [["disks", "restart"]],
      ],
      [
        "a new file for a disk restarts",
        { disks: [inputs.disks![0]!, { file: "/images/root.img" }] },
        [["disks", "restart"]],
      ],
      ["reordered disks are no change", { disks: [inputs.disks![1]!, inputs.disks![0]!] }, []],
      [
        "a new CD-ROM medium is live",
        { disks: [{ device: "cdrom", file: "/isos/b.iso" }, inputs.disks![1]!] },
        [["disks", "live"]],
      ],
      [
        "another bus on a disk restarts",
        { disks: [inputs.disks![0]!, { ...inputs.disks![1]!, bus: "sata" }] },
        [["disks", "restart"]],
      ],
      [
        "a read-only disk restarts",
        { disks: [inputs.disks![0]!, { ...inputs.disks![1]!, readOnly: true }] },
        [["disks", "restart"]],
      ],
      [
        "a new interface is attached live",
        { networkInterfaces: [...inputs.networkInterfaces!, { network: "lab" }] },
        [["networkInterfaces", "live"]],
      ],
      [
        "a removed interface is detached live",
        { networkInterfaces: [{ bridge: "br0" }] },
        [["networkInterfaces", "live"]],
      ],
      [
        "another network for an interface restarts (keeping its MAC)",
        { networkInterfaces: [{ network: "other" }, { bridge: "br0" }] },
        [["networkInterfaces", "restart"]],
      ],
      [
        "another MAC is a new interface",
        { networkInterfaces: [{ network: "lab", mac: "52:54:00:00:00:09" }, { bridge: "br0" }] },
        [
          ["networkInterfaces", "live"],
          ["networkInterfaces", "live"],
        ],
      ],
      [
        "the generated MAC written out is no change",
        { networkInterfaces: [{ network: "lab", mac: "52:54:00:00:00:01" }, { bridge: "br0" }] },
        [],
      ],
      ["autostart is live", { autostart: true }, [["autostart", "live"]]],
      ["graphics restart", { graphics: { type: "spice" } }, [["graphics", "restart"]]],
      [
        "the default listen address written out is no change",
        { graphics: { type: "vnc", listen: "127.0.0.1" } },
        [],
      ],
      ["removing graphics restarts", { graphics: undefined }, [["graphics", "restart"]]],
      ["a cpu restarts", { cpu: { mode: "maximum" } }, [["cpu", "restart"]]],
      ["a kernel command line restarts", { cmdline: "console=ttyS0" }, [["cmdline", "restart"]]],
      ["a boot order restarts", { boot: ["network", "hd"] }, [["boot", "restart"]]],
      // found by generated inputs (seed 248363563, Domain case 13): a restart at every up
      ["an empty boot order is libvirt's default, no change", { boot: [] }, []],
      [
        "a cloud-init seed restarts",
        { cloudInitDisk: { path: "/seed.iso" } },
        [["cloudInitDisk", "restart"]],
      ],
      [
        "a file console restarts",
        { console: { type: "file", path: "/log" } },
        [["console", "restart"]],
      ],
      ["the guest agent restarts", { qemuAgent: true }, [["qemuAgent", "restart"]]],
      [
        "an XML patch restarts",
        { xmlPatches: [{ parent: "devices", xml: "<watchdog model='i6300esb'/>" }] },
        [["xmlPatches", "restart"]],
      ],
      ["running: false shuts down", { running: false }, [["running", "power"]]],
      [
        "a stopped domain is started again",
        {},
        [["running", "power"]],
        { running: false, state: "shutoff" },
      ],
      [
        "a change while shut off needs no restart",
        { running: false, qemuAgent: true },
        [
          ["qemuAgent", "offline"],
          ["running", "power"],
        ],
      ],
      [
        "a change to a stopped domain being started needs no restart",
        { qemuAgent: true },
        [
          ["qemuAgent", "offline"],
          ["running", "power"],
        ],
        { running: false },
      ],
      [
        "virtwire's own settings change nothing in libvirt",
        {
          shutdownTimeout: 5,
          allowRestart: false,
          waitForAddresses: { timeout: 30 },
          waitForCloudInit: { timeout: 600 },
        },
        [
          ["shutdownTimeout", "setting"],
          ["allowRestart", "setting"],
          ["waitForAddresses", "setting"],
          ["waitForCloudInit", "setting"],
        ],
      ],
      [
        "a changed cloud-init timeout is a setting too",
        { waitForCloudInit: { timeout: 60 } },
        [["waitForCloudInit", "setting"]],
        { waitForCloudInit: { timeout: 900 } },
      ],
    ];

  // A rest parameter, so that jest does not take a fourth parameter for a done callback.
  it.each(table)("%s", (...[, change, expected, from]) => {
    expect(classes({ ...inputs, ...change }, { ...current, ...from })).toEqual(expected);
  });

  it("tells diff to delete before replacing, so two domains never share disks and MACs", () => {
    expect(domainHandlers.diff!("id", current, { ...inputs, firmware: "efi" })).toEqual({
      changes: true,
      replaces: ["firmware"],
      classes: { firmware: "replace" },
      deleteBeforeReplace: true,
    });
  });

  it("refuses at preview a change that needs a restart when allowRestart is false", () => {
    const news = { ...inputs, allowRestart: false, disks: [inputs.disks![1]!] };
    expect(() => domainHandlers.diff!("id", current, news)).toThrow(
      "allowRestart is false, and this change needs a restart of the running domain: disks: detach sda (/isos/a.iso); nothing was changed",
    );
  });

  it("treats values not known yet (preview) as changes", () => {
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    expect(classes({ ...inputs, name: unknown })).toEqual([["name", "replace"]]);
    expect(
      classes({
        ...inputs,
        disks: [inputs.disks![0]!, { volume: { pool: "images", name: unknown } }],
      }),
    ).toEqual([["disks", "restart"]]);
  });

  it("names both sources when a disk gets a new one", () => {
    const news = {
      ...inputs,
      disks: [inputs.disks![0]!, { volume: { pool: "images", name: "root-2" } }],
    };
    expect(classifyChanges(current, news).changes).toEqual([
      {
        property: "disks",
        class: "restart",
        detail: "disks: vda volume images/root → volume images/root-2",
      },
    ]);
  });
});

describe("the summary line of an update", () => {
  const line = (news: Partial<DomainInputs>, from: Partial<DomainOutputs> = {}) =>
    summary("web-1", classifyChanges({ ...current, ...from }, { ...inputs, ...news }));

  it("names each change by the user's property, then how it is applied", () => {
    expect(line({ memory: "192MiB", autostart: true })).toBe(
      "virtwire: domain web-1: memory 128MiB → 192MiB [live]; autostart false → true [live]",
    );
    expect(line({ firmware: "efi", qemuAgent: true })).toBe(
      "virtwire: domain web-1: firmware bios → efi [replace]; qemuAgent changed [restart]",
    );
    expect(line({ running: false, qemuAgent: true })).toBe(
      "virtwire: domain web-1: qemuAgent changed [while shut off]; running true → false [shut down]",
    );
    expect(line({ shutdownTimeout: 5 })).toBe(
      "virtwire: domain web-1: shutdownTimeout 60 → 5 [nothing to do in libvirt]",
    );
  });

  it("never names a maximum the user left unset", () => {
    const unset = { memory: "192MiB", maxMemory: undefined, vcpu: 3, maxVcpus: undefined };
    expect(line(unset)).toBe(
      "virtwire: domain web-1: memory 128MiB → 192MiB [restart]; vcpu 1 → 3 [restart]",
    );
  });

  it("names the interface and its network when one changes", () => {
    expect(line({ networkInterfaces: [{ network: "other" }, { bridge: "br0" }] })).toBe(
      "virtwire: domain web-1: networkInterfaces: 52:54:00:00:00:01 (on network lab) changed [restart]",
    );
  });
});

describe("the diff a refresh asks for", () => {
  const said: string[] = [];
  const refresh: ResourceContext = {
    connect: () => Promise.reject(new Error("a refresh's diff asks libvirt nothing")),
    virsh: () => "virsh",
    log: (line) => said.push(line),
    warn: (line) => said.push(line),
    status: (line) => said.push(line),
    refresh: true,
  };

  it("reports the drift, says nothing about applying it, and refuses nothing", async () => {
    const drifted = { ...current, autostart: true };
    const news = { ...inputs, allowRestart: false, disks: [inputs.disks![1]!] };
    expect(await domainHandlers.diff!("id", drifted, news, refresh)).toEqual({
      changes: true,
      replaces: [],
      classes: { allowRestart: "setting", autostart: "live", disks: "restart" },
      deleteBeforeReplace: true,
    });
    expect(said).toEqual([]);
  });
});
