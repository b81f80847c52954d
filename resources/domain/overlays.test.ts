import type { DomainDisk, DomainInputs } from "../kit/generated/types";
import {
  OverlaidDisk,
  changesDiskSources,
  keepOverlays,
  refuseOverlaidChanges,
  refuseOverlaidInputs,
} from "./overlays";
import { planDomain } from "./plan";
import { buildDomainXml } from "./xml-build";
import { backingChains } from "./xml-disk-source";

const volume = { pool: "default", name: "web.qcow2" };
const configured: DomainDisk = { volume, format: "qcow2", target: "vda", bus: "virtio" };
const overlaid: OverlaidDisk = {
  top: { file: "/srv/web.second", format: "qcow2", target: "vda", bus: "virtio" },
  chain: {
    images: [
      { source: { file: "/srv/web.first" }, format: "qcow2" },
      { source: { volume }, format: "qcow2" },
    ],
    closed: false,
  },
  configured,
  snapshots: ["second", "first"],
};
const domain = (disks: DomainDisk[]): DomainInputs => ({
  name: "web",
  type: "qemu",
  vcpu: 1,
  memory: "128MiB",
  disks,
});

describe("a disk under external snapshots", () => {
  it("keeps its newest overlay and the chain below it when its source stays", () => {
    const plan = planDomain(
      domain([{ volume }]),
      { disks: [configured], networkInterfaces: [] },
      new Map(),
    );
    refuseOverlaidChanges("web", plan.disks, [overlaid]);
    const [disk] = keepOverlays(plan.disks, [overlaid]);
    expect(disk).toMatchObject({ file: "/srv/web.second", format: "qcow2", target: "vda" });
    expect(disk!.volume).toBeUndefined();
    const xml = buildDomainXml({ ...plan, disks: [disk!] });
    expect(xml.replace(/>\s+</g, "><")).toContain(
      `<source file="/srv/web.second"/><backingStore type="file"><format type="qcow2"/><source file="/srv/web.first"/><backingStore type="volume"><format type="qcow2"/><source pool="default" volume="web.qcow2"/></backingStore></backingStore><target dev="vda" bus="virtio"/>`,
    );
    expect(backingChains(xml).get("vda")).toEqual(overlaid.chain);
  });

  it("leaves disks without overlays as planned", () => {
    const other: DomainDisk = {
      file: "/srv/data.raw",
      format: "raw",
      target: "vdb",
      bus: "virtio",
    };
    const plan = planDomain(
      domain([{ file: "/srv/data.raw" }]),
      { disks: [other], networkInterfaces: [] },
      new Map(),
    );
    expect(keepOverlays(plan.disks, [overlaid])).toEqual(plan.disks);
  });

  it("is refused a new source, naming the domain, the snapshots and the fix", () => {
    const wanted = [{ volume: { pool: "default", name: "fresh.qcow2" }, target: "vda" }];
    expect(() => refuseOverlaidChanges("web", wanted, [overlaid])).toThrow(
      "domain web: disk vda writes to the overlay of external snapshots second, first, and a new source for it would take it off that overlay and break the snapshot chain; nothing was changed: delete the DomainSnapshots second, first first",
    );
  });

  it("is refused its removal", () => {
    expect(() => refuseOverlaidChanges("web", [], [overlaid])).toThrow(/vda .* its removal/);
  });

  it("is judged at preview by the disk it pairs with, and only a changed source asks libvirt", () => {
    const fresh = { volume: { pool: "default", name: "fresh.qcow2" } };
    expect(changesDiskSources([{ volume }], [configured])).toBe(false);
    expect(changesDiskSources([fresh], [configured])).toBe(true);
    expect(changesDiskSources([], [configured])).toBe(true);
    expect(() => refuseOverlaidInputs("web", [{ volume }], [configured], [overlaid])).not.toThrow();
    expect(() => refuseOverlaidInputs("web", [fresh], [configured], [overlaid])).toThrow(
      /a new source for it/,
    );
  });
});
