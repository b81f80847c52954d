import { ErrorCode, ErrorDomain, Libvirt, LibvirtError } from "../../rpc";
import { libvirtError } from "../../test/support/packets";
import { refreshPool } from "./storage";

const pool = { name: "images", uuid: Buffer.alloc(16) };

const storageError = (code: number, message: string): LibvirtError =>
  libvirtError({ code, domain: ErrorDomain.STORAGE, message });

/** A connection whose STORAGE_POOL_REFRESH fails with `failures` first, then succeeds. */
function refreshing(...failures: LibvirtError[]) {
  const calls: unknown[] = [];
  const lv = {
    StoragePoolRefresh: async (args: unknown) => {
      calls.push(args);
      const failure = failures.shift();
      if (failure) throw failure;
    },
  } as unknown as Libvirt;
  return { lv, calls };
}

describe("refreshing a pool", () => {
  it("waits while other volumes of the pool are being built", async () => {
    const busy = () =>
      storageError(
        ErrorCode.INTERNAL_ERROR,
        "internal error: pool 'images' has asynchronous jobs running.",
      );
    const { lv, calls } = refreshing(busy(), busy());
    const sleeps: number[] = [];
    await refreshPool(lv, pool, async (ms) => void sleeps.push(ms));
    expect(calls).toHaveLength(3);
    expect(sleeps).toEqual([250, 250]);
  });

  it("fails at once for any other error", async () => {
    const { lv, calls } = refreshing(storageError(ErrorCode.NO_STORAGE_POOL, "no pool"));
    await expect(refreshPool(lv, pool, async () => undefined)).rejects.toThrow("no pool");
    expect(calls).toHaveLength(1);
  });
});
