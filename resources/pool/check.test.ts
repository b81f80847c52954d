import type { PoolInputs } from "../kit/generated/types";
import { checkPool } from "./check";

const pool = (inputs: Partial<PoolInputs>): PoolInputs => ({
  type: "dir",
  targetPath: "/srv/pool",
  ...inputs,
});

describe("a Pool's source", () => {
  it("is refused on a dir pool, which has none (libvirt drops it and every up would replace)", () => {
    expect(checkPool(pool({ source: { dir: "'b1xl", devices: [] } }))).toEqual([
      {
        property: "source.dir",
        reason:
          "source.dir: a dir pool has no source (its volumes are files in targetPath): remove source",
      },
    ]);
  });

  it("may be empty on a dir pool", () => {
    expect(checkPool(pool({ source: { devices: [] } }))).toEqual([]);
  });

  it("has only the fields libvirt keeps for the pool type", () => {
    const netfs = pool({
      type: "netfs",
      source: { host: "nfs1", dir: "/x", devices: ["/dev/sdb"] },
    });
    expect(checkPool(netfs)).toEqual([
      {
        property: "source.devices",
        reason: "source.devices is not used by a netfs pool (it uses host, dir, format): remove it",
      },
    ]);
    const fs = pool({ type: "fs", source: { devices: ["/dev/sdb"], format: "ext4" } });
    expect(checkPool(fs)).toEqual([]);
    const logical = pool({ type: "logical", source: { devices: ["/dev/sdb"], host: "h" } });
    expect(checkPool(logical).map((failure) => failure.property)).toEqual(["source.host"]);
  });

  it("needs what the pool type uses", () => {
    expect(checkPool(pool({ type: "netfs", source: { host: "nfs1" } }))[0]!.property).toBe(
      "source",
    );
    expect(checkPool(pool({ type: "fs" }))[0]!.property).toBe("source.devices");
  });

  it("of a disk or iscsi pool names one device, and an iscsi pool its portal", () => {
    const disk = pool({ type: "disk", source: { devices: ["/dev/sdb", "/dev/sdc"] } });
    expect(checkPool(disk)).toEqual([
      {
        property: "source.devices",
        reason: "a disk pool uses one block device, not 2: give one (a pool per disk)",
      },
    ]);
    const iscsi = pool({ type: "iscsi", source: { devices: ["iqn.2024-01.org.example:a"] } });
    expect(checkPool(iscsi)[0]!.reason).toMatch(/needs source.host \(the portal\)/);
    const portal = { host: "san1", devices: ["iqn.2024-01.org.example:a"] };
    expect(checkPool(pool({ type: "iscsi", source: portal }))).toEqual([]);
  });

  it("has a format the pool type's backend knows", () => {
    const gpt = pool({ type: "disk", source: { devices: ["/dev/sdb"], format: "gpt" } });
    expect(checkPool(gpt)).toEqual([]);
    const ext4 = pool({ type: "disk", source: { devices: ["/dev/sdb"], format: "ext4" } });
    expect(checkPool(ext4)).toEqual([
      {
        property: "source.format",
        reason: `a disk pool's format is one of dos, gpt, dvh, mac, bsd, pc98, sun, not "ext4": use one of those, or leave it out`,
      },
    ]);
  });
});
