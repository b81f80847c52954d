import type { DomainInputs, DomainOutputs } from "../kit/generated/types";
import { checkDomain } from "./check";
import { classifyChanges } from "./diff";
import { firmwareOutputs } from "./firmware-state";
import { machineOutputs } from "./machine-state";
import { checkedDomain } from "./normalize";
import { planDomain } from "./plan";
import { buildDomainXml } from "./xml-build";
import { readDomainXml } from "./xml-read";

const guest: DomainInputs = {
  name: "fw-1",
  type: "qemu",
  memory: "256MiB",
  machine: "q35",
  memoryBacking: { source: "memfd", access: "shared" },
  features: { smm: true },
  filesystems: [
    { source: "/srv/share", target: "share" },
    { driver: "9p", source: "/srv/ro", target: "ro", readOnly: true, accessMode: "mapped" },
  ],
  tpm: {},
  firmware: "efi",
  secureBoot: true,
};

const built = (inputs: DomainInputs) =>
  buildDomainXml(planDomain(checkedDomain(inputs), undefined, new Map()));

/** The outputs of a read of `xml`, running, as describe.ts makes them. */
const currentOf = (xml: string, inputs: DomainInputs) => {
  const description = readDomainXml(xml);
  return {
    ...description,
    ...machineOutputs(description, inputs),
    ...firmwareOutputs(description, inputs),
    memory: "256MiB",
    running: true,
    autostart: false,
    shutdownTimeout: 60,
    allowRestart: true,
  } as unknown as DomainOutputs;
};

const classes = (current: DomainOutputs, inputs: DomainInputs) =>
  classifyChanges(current, inputs).changes.map((c) => `${c.property}: ${c.class}`);

describe("shared folders, TPM and UEFI in the domain XML", () => {
  it("are written as libvirt's elements", () => {
    const xml = built(guest);
    expect(xml).toMatch(
      /<filesystem type="mount" accessmode="passthrough">\s*<driver type="virtiofs"\/>\s*<source dir="\/srv\/share"\/>\s*<target dir="share"\/>\s*<\/filesystem>/,
    );
    expect(xml).toMatch(
      /<filesystem type="mount" accessmode="mapped">\s*<source dir="\/srv\/ro"\/>\s*<target dir="ro"\/>\s*<readonly\/>/,
    );
    expect(xml).toMatch(/<tpm model="tpm-crb">\s*<backend type="emulator" version="2.0"\/>/);
    expect(xml).toMatch(
      /<os firmware="efi">[\s\S]*<feature enabled="yes" name="secure-boot"\/>\s*<feature enabled="yes" name="enrolled-keys"\/>/,
    );
  });

  it("ask libvirt for firmware without Secure Boot unless secureBoot is set", () => {
    expect(built({ ...guest, secureBoot: false })).toMatch(
      /<firmware>\s*<feature enabled="no" name="secure-boot"\/>\s*<\/firmware>/,
    );
    expect(built({ ...guest, firmware: "bios", secureBoot: false })).not.toContain("<firmware");
  });

  it("write the user's loader and NVRAM instead of libvirt's pick", () => {
    const xml = built({
      ...guest,
      loader: "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd",
      nvram: "/var/lib/vm/fw-1_VARS.fd",
      nvramTemplate: "/usr/share/OVMF/OVMF_VARS_4M.ms.fd",
    });
    expect(xml).not.toContain(`firmware="efi"`);
    expect(xml).toContain(
      `<loader readonly="yes" type="pflash" secure="yes">/usr/share/OVMF/OVMF_CODE_4M.secboot.fd</loader>`,
    );
    expect(xml).toContain(
      `<nvram template="/usr/share/OVMF/OVMF_VARS_4M.ms.fd">/var/lib/vm/fw-1_VARS.fd</nvram>`,
    );
  });

  it("read back as given, so a second run sees no change", () => {
    const current = currentOf(built(guest), guest);
    expect(current).toMatchObject({
      filesystems: [
        {
          driver: "virtiofs",
          source: "/srv/share",
          target: "share",
          readOnly: false,
          accessMode: "passthrough",
        },
        { driver: "9p", source: "/srv/ro", target: "ro", readOnly: true, accessMode: "mapped" },
      ],
      tpm: { model: "tpm-crb", version: "2.0" },
      firmware: "efi",
      secureBoot: true,
    });
    expect(classes(current, guest)).toEqual([]);
  });

  it("read libvirt 11's expansion of its firmware pick with no change", () => {
    // What libvirt 11 keeps in the inactive XML once it has picked the firmware at define time.
    const xml = built(guest).replace(
      "</firmware>",
      `</firmware>
      <loader readonly='yes' secure='yes' type='pflash' format='raw'>/usr/share/OVMF/OVMF_CODE_4M.ms.fd</loader>
      <nvram template='/usr/share/OVMF/OVMF_VARS_4M.ms.fd' format='raw'>/var/lib/libvirt/qemu/nvram/fw-1_VARS.fd</nvram>`,
    );
    const current = currentOf(xml, guest);
    expect(current).toMatchObject({
      loader: "/usr/share/OVMF/OVMF_CODE_4M.ms.fd",
      nvram: "/var/lib/libvirt/qemu/nvram/fw-1_VARS.fd",
    });
    expect(classes(current, guest)).toEqual([]);
  });

  it("read a 9p share and a TPM that libvirt wrote without their defaults", () => {
    const description = readDomainXml(
      `<domain type="qemu"><name>x</name><devices>
        <filesystem type="mount"><driver type="path"/><source dir="/a"/><target dir="a"/></filesystem>
        <filesystem type="block"><source dev="/dev/sda"/><target dir="b"/></filesystem>
        <tpm><backend type="emulator"/></tpm></devices></domain>`,
    );
    expect(description.filesystems).toEqual([
      { driver: "9p", source: "/a", target: "a", readOnly: false, accessMode: "passthrough" },
    ]);
    expect(description.tpm).toEqual({ model: "tpm-tis", version: "2.0" });
  });

  it("classify every change as a restart, and a removed resetNvram as nothing to do", () => {
    const current = currentOf(built(guest), { ...guest, resetNvram: "1" });
    expect(
      classes(current, {
        ...guest,
        filesystems: [{ source: "/srv/share", target: "share2" }],
        tpm: { model: "tpm-tis", version: "1.2" },
        secureBoot: false,
        resetNvram: "2",
      }).sort(),
    ).toEqual([
      "filesystems: restart",
      "resetNvram: restart",
      "secureBoot: restart",
      "tpm: restart",
    ]);
    expect(classes(current, guest)).toEqual(["resetNvram: setting"]);
    const off = { ...guest, resetNvram: "2", running: false };
    expect(classes({ ...current, running: false }, off)).toEqual(["resetNvram: offline"]);
  });
});

describe("the shared folder, TPM and UEFI checks", () => {
  const reasons = (inputs: Partial<DomainInputs>) =>
    checkDomain(checkedDomain({ ...guest, ...inputs } as DomainInputs)).map((f) => f.reason);

  it("take the example as it is", () => {
    expect(reasons({})).toEqual([]);
  });

  it("refuse virtiofs without shared memory, saying what to write", () => {
    expect(reasons({ memoryBacking: undefined })).toEqual([
      `filesystems[0] is virtiofs, which needs the guest's memory shared with virtiofsd: add memoryBacking: { source: "memfd", access: "shared" }, or use driver: "9p"`,
    ]);
    expect(reasons({ memoryBacking: undefined, filesystems: [guest.filesystems![1]!] })).toEqual(
      [],
    );
  });

  it("refuse a mount tag given twice, too long for virtiofs, and 9p's access modes on virtiofs", () => {
    expect(
      reasons({
        filesystems: [
          { source: "/a", target: "t" },
          { source: "/b", target: "t", driver: "9p" },
          { source: "/c", target: "x".repeat(37), accessMode: "mapped" },
        ],
      }),
    ).toEqual([
      `filesystems[1].target "t" is the mount tag of another share too: give each share its own target`,
      `filesystems[2].target "${"x".repeat(37)}" is longer than virtiofs allows (36 bytes): use a shorter mount tag`,
      `filesystems[2].accessMode mapped: virtiofs has only passthrough; remove accessMode, or use driver: "9p"`,
    ]);
  });

  it("refuse a TPM 1.2 on the CRB interface", () => {
    expect(reasons({ tpm: { version: "1.2" } })).toEqual([
      `tpm.version 1.2: the tpm-crb interface is TPM 2.0 only; use version: "2.0", or model: "tpm-tis" for a TPM 1.2`,
    ]);
    expect(reasons({ tpm: { model: "tpm-tis", version: "1.2" } })).toEqual([]);
  });

  it("refuse Secure Boot without UEFI, q35 or SMM, naming the fix", () => {
    expect(reasons({ firmware: "bios" })).toEqual([
      `secureBoot needs UEFI: set firmware: "efi" (with machine: "q35" and features: { smm: true }), or remove secureBoot`,
    ]);
    expect(reasons({ machine: "pc", features: {} })).toEqual([
      `secureBoot needs a q35 machine (Secure Boot firmware keeps its variables in SMM, which the pc machine lacks): set machine: "q35"`,
      `secureBoot needs System Management Mode, where the firmware guards its variables: set features: { smm: true }`,
    ]);
  });

  it("refuse UEFI settings on a BIOS domain, and an NVRAM without its loader", () => {
    expect(reasons({ firmware: "bios", secureBoot: false, resetNvram: "x" })).toEqual([
      `resetNvram is a UEFI setting: set firmware: "efi", or remove resetNvram`,
    ]);
    expect(reasons({ nvram: "/var/lib/vm/vars.fd" })).toEqual([
      `nvram needs loader, the firmware image its variables belong to: set loader (e.g. "/usr/share/OVMF/OVMF_CODE_4M.fd"), or remove nvram and let libvirt pick both`,
    ]);
  });
});
