import { create } from "xmlbuilder2";
import { usable } from "./addresses";
import { matchDisks, matchInterfaces } from "./devices";
import {
  checkedDomain,
  formatBytes,
  matchesWhereSet,
  nextTarget,
  sameMachine,
  sizeInUserSpelling,
  targetName,
} from "./normalize";
import { applyPatches, wellFormedProblem } from "./patches";

describe("normalisation", () => {
  it("takes machine aliases as equal to the versions libvirt expands them to", () => {
    expect(sameMachine("pc", "pc-i440fx-7.2")).toBe(true);
    expect(sameMachine("q35", "pc-q35-7.2")).toBe(true);
    expect(sameMachine("pc-q35-7.2", "pc-q35-7.2")).toBe(true);
    expect(sameMachine("virt", "virt-7.2")).toBe(true);
    expect(sameMachine("pc", "pc-q35-7.2")).toBe(false);
    expect(sameMachine("q35", "pc-i440fx-7.2")).toBe(false);
  });

  it("keeps the user's spelling of a size when libvirt's KiB mean the same", () => {
    expect(sizeInUserSpelling("0.5GiB", 512 << 20)).toBe("0.5GiB");
    expect(sizeInUserSpelling(134217728, 128 << 20)).toBe(134217728);
    expect(sizeInUserSpelling("128MiB", 160 << 20)).toBe("160MiB");
    expect(sizeInUserSpelling(undefined, 3 * 1024 ** 3)).toBe("3GiB");
    expect(formatBytes(1536 * 1024)).toBe("1536KiB");
  });

  it("names disks as libvirt does: vda … vdz, vdaa …, skipping names in use", () => {
    expect([0, 25, 26, 27, 701, 702].map((index) => targetName("vd", index))).toEqual([
      "vda",
      "vdz",
      "vdaa",
      "vdab",
      "vdzz",
      "vdaaa",
    ]);
    expect(nextTarget("sd", new Set(["sda", "sdb", "sdd"]))).toBe("sdc");
  });

  it("compares only what the user set", () => {
    const actual = { type: "vnc", listen: "127.0.0.1", port: 5901 };
    expect(matchesWhereSet({ type: "vnc" }, actual)).toBe(true);
    expect(matchesWhereSet({ type: "vnc", port: undefined }, actual)).toBe(true);
    expect(matchesWhereSet({ type: "vnc", listen: "0.0.0.0" }, actual)).toBe(false);
    expect(matchesWhereSet({ type: "vnc" }, undefined)).toBe(false);
  });

  it("waits for cloud-init as long as given, else schema.json's default", () => {
    const timeout = (waitForCloudInit: object) =>
      checkedDomain({ waitForCloudInit }).waitForCloudInit?.timeout;
    expect(timeout({ timeout: 60 })).toBe(60);
    expect(timeout({})).toBe(900);
  });

  it("ignores link-local and loopback addresses, which come before DHCP has finished", () => {
    expect(["10.1.2.3", "fd00::5", "2001:db8::1"].every(usable)).toBe(true);
    expect(
      ["169.254.1.1", "fe80::1", "FE80::5054:ff:fe00:1", "127.0.0.1", "::1"].some(usable),
    ).toBe(false);
  });
});

describe("device matching", () => {
  const vda = { device: "disk" as const, bus: "virtio" as const, target: "vda", file: "/a.img" };
  const vdb = { device: "disk" as const, bus: "virtio" as const, target: "vdb", file: "/b.img" };
  const sda = { device: "cdrom" as const, bus: "sata" as const, target: "sda", file: "/x.iso" };

  it("pairs disks by target, then by source, then what is left in order", () => {
    const wanted = [
      { file: "/b.img", device: "disk" as const, bus: "virtio" as const },
      { device: "cdrom" as const, bus: "sata" as const, file: "/y.iso" },
      { file: "/c.img", device: "disk" as const, bus: "virtio" as const },
      { file: "/d.img", device: "disk" as const, bus: "virtio" as const },
    ];
    const match = matchDisks(wanted, [vda, vdb, sda]);
    expect(match.pairs.map((pair) => [pair.wanted.file, pair.current.target])).toEqual([
      ["/b.img", "vdb"],
      ["/y.iso", "sda"],
      ["/c.img", "vda"],
    ]);
    expect(match.added).toEqual([wanted[3]]);
    expect(match.removed).toEqual([]);
  });

  it("keeps the boot disk's place when it gets a new source", () => {
    const match = matchDisks([{ file: "/new-root.img", device: "disk" as const }], [vda]);
    expect(match.pairs).toEqual([
      { wanted: { file: "/new-root.img", device: "disk" }, current: vda },
    ]);
    expect(match.added).toEqual([]);
    expect(match.removed).toEqual([]);
  });

  it("leaves a disk unpaired when fewer disks are wanted", () => {
    const match = matchDisks([{ file: "/b.img", device: "disk" as const }], [vda, vdb]);
    expect(match.removed).toEqual([vda]);
  });

  it("pairs interfaces by MAC, then by network, then by position", () => {
    const current = [
      { network: "a", mac: "52:54:00:00:00:01" },
      { network: "b", mac: "52:54:00:00:00:02" },
      { bridge: "br0", mac: "52:54:00:00:00:03" },
    ];
    const wanted = [
      { network: "b" },
      { network: "c" },
      { bridge: "br0", mac: "52:54:00:00:00:03" },
    ];
    const match = matchInterfaces(wanted, current);
    expect(match.pairs.map((pair) => [pair.wanted, pair.current.mac])).toEqual([
      [wanted[2], "52:54:00:00:00:03"],
      [wanted[0], "52:54:00:00:00:02"],
      [wanted[1], "52:54:00:00:00:01"],
    ]);
    expect(match.added).toEqual([]);
    expect(match.removed).toEqual([]);
  });
});

describe("XML patches", () => {
  it("accepts well-formed fragments and says what is wrong with others", () => {
    expect(
      wellFormedProblem("<a x='1' y=\"2\"><b/><!-- c --><![CDATA[<d>]]></a><e/>"),
    ).toBeUndefined();
    expect(wellFormedProblem("<a><b></a>")).toBe("</a> closes <b>");
    expect(wellFormedProblem("<a>")).toBe("<a> is never closed");
    expect(wellFormedProblem("</a>")).toBe("</a> has no opening tag");
    expect(wellFormedProblem("<a x=1/>")).toMatch(/does not start a valid tag/);
  });

  it("appends under the parent, creating missing elements on the way", () => {
    const domain = create().ele("domain");
    domain.ele("devices").ele("disk");
    applyPatches(domain, [
      { parent: "devices", xml: "<watchdog model='i6300esb'/>" },
      { parent: "features/hyperv", xml: "<relaxed state='on'/>" },
      { parent: ".", xml: "<on_crash>restart</on_crash>" },
    ]);
    expect(domain.end({ headless: true })).toBe(
      '<domain><devices><disk/><watchdog model="i6300esb"/></devices><features><hyperv><relaxed state="on"/></hyperv></features><on_crash>restart</on_crash></domain>',
    );
  });
});
