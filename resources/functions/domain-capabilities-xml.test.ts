import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readDomainCapabilities } from "./domain-capabilities-xml";

/** `virsh domcapabilities --virttype qemu [--machine q35]` of the test bed's daemons. */
const fixture = (name: string) =>
  readFileSync(join(__dirname, "fixtures", `domcaps-${name}.xml`), "utf8");

describe("a domain capabilities document read into typed fields", () => {
  it("reads libvirt 9.0's q35 TCG capabilities: OVMF images with Secure Boot", () => {
    const xml = fixture("9.0-qemu-q35");
    const caps = readDomainCapabilities(xml);
    expect(caps).toMatchObject({
      emulator: "/usr/bin/qemu-system-x86_64",
      virtType: "qemu",
      machine: "pc-q35-7.2",
      arch: "x86_64",
      maxVcpus: 288,
      firmware: ["efi"],
      loader: {
        supported: true,
        paths: [
          "/usr/share/OVMF/OVMF_CODE_4M.ms.fd",
          "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd",
          "/usr/share/OVMF/OVMF_CODE_4M.fd",
        ],
        types: ["rom", "pflash"],
        readonly: ["yes", "no"],
        secureBoot: true,
      },
      cpuModes: [
        { name: "host-passthrough", supported: false },
        { name: "maximum", supported: true },
        { name: "host-model", supported: true },
        { name: "custom", supported: true },
      ],
      hostCpuModel: "EPYC",
      diskDevices: ["disk", "cdrom", "floppy", "lun"],
      diskBuses: ["fdc", "scsi", "virtio", "usb", "sata"],
      graphicsTypes: ["sdl", "vnc", "spice", "egl-headless", "dbus"],
      videoModels: ["vga", "cirrus", "vmvga", "qxl", "virtio", "none", "bochs", "ramfb"],
      hostdevTypes: ["usb", "pci", "scsi"],
      rngModels: ["virtio", "virtio-transitional", "virtio-non-transitional"],
      tpmModels: ["tpm-tis", "tpm-crb"],
      filesystemDrivers: ["path", "handle", "virtiofs"],
      xml,
    });
  });

  it("lists only the CPU models usable here, and only the features marked supported", () => {
    const caps = readDomainCapabilities(fixture("9.0-qemu-q35"));
    expect(caps.cpuModels).toContain("qemu64");
    expect(caps.cpuModels).toContain("Penryn");
    expect(caps.cpuModels).not.toContain("Skylake-Client");
    expect(caps.features).toEqual(["vmcoreinfo", "genid", "backingStoreInput", "backup", "hyperv"]);
  });

  it("says a pc machine cannot boot with Secure Boot", () => {
    const caps = readDomainCapabilities(fixture("9.0-qemu-pc"));
    expect(caps.machine).toBe("pc-i440fx-7.2");
    expect(caps.loader).toEqual({
      supported: true,
      paths: ["/usr/share/OVMF/OVMF_CODE_4M.fd"],
      types: ["rom", "pflash"],
      readonly: ["yes", "no"],
      secureBoot: false,
    });
  });

  it("reads libvirt 11.3's capabilities, whose CPU models carry their blockers", () => {
    const caps = readDomainCapabilities(fixture("11.3-qemu-q35"));
    expect(caps).toMatchObject({
      machine: "pc-q35-10.0",
      maxVcpus: 4096,
      loader: { secureBoot: true },
      diskBuses: expect.arrayContaining(["virtio", "sata", "scsi"]),
      features: expect.arrayContaining(["vmcoreinfo", "async-teardown"]),
    });
    expect(caps.cpuModels).toContain("qemu64");
    expect(caps.cpuModels.every((model) => model.length > 0)).toBe(true);
    expect(caps.cpuModels).not.toContain("Skylake-Client");
  });

  it("offers nothing of a device libvirt marks unsupported", () => {
    const caps = readDomainCapabilities(`<domainCapabilities>
  <path>/usr/bin/qemu-system-aarch64</path><domain>qemu</domain><machine>virt-7.2</machine><arch>aarch64</arch>
  <os supported='no'><loader supported='yes'><value>/x.fd</value></loader></os>
  <devices><tpm supported='no'><enum name='model'><value>tpm-tis</value></enum></tpm></devices>
</domainCapabilities>`);
    expect(caps).toMatchObject({
      firmware: [],
      loader: { supported: false, paths: [], secureBoot: false },
      tpmModels: [],
      cpuModes: [],
      features: [],
    });
    expect(caps).not.toHaveProperty("maxVcpus");
  });
});
