import { DomainUndefineFlags } from "../../rpc";
import { undefineFlags } from "./removal";

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
