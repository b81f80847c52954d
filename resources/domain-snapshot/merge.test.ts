import { ErrorCode, ErrorDomain, LibvirtError } from "../../rpc";
import type { Libvirt, RemoteNonnullDomain, RemoteNonnullDomainSnapshot } from "../../rpc";
import type { ResourceContext } from "../kit/resource";
import { mergeAndForget } from "./merge";
import type { SnapshotFacts } from "./xml";

const dom = { name: "vm" } as RemoteNonnullDomain;
const snap = { name: "s1" } as RemoteNonnullDomainSnapshot;
const ctx: ResourceContext = {
  connect: () => Promise.reject(new Error("no")),
  virsh: () => "virsh",
  log: () => undefined,
  warn: () => undefined,
  status: () => undefined,
};
const facts: SnapshotFacts = {
  name: "s1",
  creationTime: 1,
  state: "running",
  kind: "external",
  overlays: [
    { target: "vda", path: "/srv/a.s1", below: { path: "/srv/a.qcow2" } },
    { target: "vdb", path: "/srv/b.s1", below: { path: "/srv/b.qcow2" } },
  ],
};
const refusal = (code: number) =>
  new LibvirtError({
    code,
    domain: ErrorDomain.QEMU,
    message: `refused (${code})`,
    level: 2,
    str1: null,
    str2: null,
    str3: null,
    int1: -1,
    int2: -1,
  });

/** A daemon whose disks write to `tops`; records the block-job calls made. */
function daemon(tops: Record<string, string>, options: { active?: boolean; pivot?: Error } = {}) {
  const calls: string[] = [];
  const disks = Object.entries(tops)
    .map(
      ([dev, file]) =>
        `<disk type='file' device='disk'><source file='${file}'/><target dev='${dev}'/></disk>`,
    )
    .join("");
  const lv = {
    DomainIsActive: async () => ({ active: options.active === false ? 0 : 1 }),
    DomainGetXMLDesc: async () => ({ xml: `<domain><devices>${disks}</devices></domain>` }),
    DomainBlockCommit: async ({ disk }: { disk: string }) => void calls.push(`commit ${disk}`),
    DomainGetBlockJobInfo: async () => ({ found: 1, cur: 5n, end: 5n }),
    DomainBlockJobAbort: async ({ path, flags }: { path: string; flags: number }) => {
      calls.push(`${flags ? "pivot" : "abort"} ${path}`);
      if (flags && options.pivot) throw options.pivot;
    },
    DomainSnapshotDelete: async () => void calls.push("forget"),
  };
  return { lv: lv as unknown as Libvirt, calls };
}

describe("merging an external snapshot back on a daemon before 9.0", () => {
  it("skips a disk an earlier partial merge already put back on its image", async () => {
    const { lv, calls } = daemon({ vda: "/srv/a.qcow2", vdb: "/srv/b.s1" });
    await mergeAndForget(lv, dom, snap, facts, ctx);
    expect(calls).toEqual(["commit vdb", "pivot vdb", "forget"]);
  });

  it("still refuses when a later snapshot sits on top of a disk", async () => {
    const { lv, calls } = daemon({ vda: "/srv/a.s2", vdb: "/srv/b.s1" });
    await expect(mergeAndForget(lv, dom, snap, facts, ctx)).rejects.toThrow(
      /delete that one first/,
    );
    expect(calls).toEqual([]);
  });

  it("cancels the commit job when the pivot is refused", async () => {
    const pivot = refusal(ErrorCode.OPERATION_FAILED);
    const { lv, calls } = daemon({ vda: "/srv/a.s1", vdb: "/srv/b.s1" }, { pivot });
    await expect(mergeAndForget(lv, dom, snap, facts, ctx)).rejects.toBe(pivot);
    expect(calls).toEqual(["commit vda", "pivot vda", "abort vda"]);
  });

  it("names libvirt before 9.0 for a shut-off domain only when the refusal says so", async () => {
    const { lv } = daemon({}, { active: false });
    const old = refusal(ErrorCode.CONFIG_UNSUPPORTED);
    await expect(mergeAndForget(lv, dom, snap, facts, ctx, old)).rejects.toThrow(/before 9\.0/);
    const other = refusal(ErrorCode.OPERATION_UNSUPPORTED);
    const merge = mergeAndForget(lv, dom, snap, facts, ctx, other);
    await expect(merge).rejects.toThrow(/libvirt refused \(refused \(\d+\)\)/);
    await expect(merge).rejects.not.toThrow(/before 9\.0/);
  });
});
