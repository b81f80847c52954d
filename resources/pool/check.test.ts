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
});
