import { DomainUndefineFlags } from "../../rpc";
import { keepsNvram, undefineFlags } from "./removal";

const has = (flags: number, flag: DomainUndefineFlags) => (flags & flag) !== 0;

describe("the undefine flags", () => {
  it("remove libvirt's own NVRAM file with the domain, in every set but the plain one", () => {
    const sets = undefineFlags(false);
    expect(sets.slice(0, -1).every((flags) => has(flags, DomainUndefineFlags.NVRAM))).toBe(true);
    expect(sets.some((flags) => has(flags, DomainUndefineFlags.KEEP_NVRAM))).toBe(false);
  });

  it("keep an NVRAM file the user gave, in every set but the plain one", () => {
    const sets = undefineFlags(true);
    expect(sets.slice(0, -1).every((flags) => has(flags, DomainUndefineFlags.KEEP_NVRAM))).toBe(
      true,
    );
    expect(sets.some((flags) => has(flags, DomainUndefineFlags.NVRAM))).toBe(false);
  });

  it("fall back from the richest set to older ones, then none", () => {
    const sets = undefineFlags(true);
    expect(has(sets[0]!, DomainUndefineFlags.TPM)).toBe(true);
    expect(has(sets[1]!, DomainUndefineFlags.TPM)).toBe(false);
    expect(has(sets[2]!, DomainUndefineFlags.CHECKPOINTS_METADATA)).toBe(false);
    expect(sets[sets.length - 1]).toBe(0);
  });
});

describe("whose NVRAM file it is", () => {
  it("is the user's when they gave a path of their own", () => {
    expect(keepsNvram("vm", "/srv/vars/vm.fd")).toBe(true);
  });

  it("is libvirt's when it is the file libvirt names, of a system or session daemon", () => {
    expect(keepsNvram("vm", "/var/lib/libvirt/qemu/nvram/vm_VARS.fd")).toBe(false);
    expect(keepsNvram("vm", "/home/me/.config/libvirt/qemu/nvram/vm_VARS.fd")).toBe(false);
    expect(keepsNvram("vm", undefined)).toBe(false);
  });

  it("is the user's when it is in libvirt's folder under another domain's name", () => {
    expect(keepsNvram("vm", "/var/lib/libvirt/qemu/nvram/other_VARS.fd")).toBe(true);
  });
});
