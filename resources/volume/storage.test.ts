import { ErrorCode, ErrorDomain, Libvirt, LibvirtError } from "../../rpc";
import { libvirtError } from "../../test/support/packets";
import type { ResourceContext } from "../kit/resource";
import { ENCRYPTED_CREATE_ATTEMPTS, createFilledVolume, refreshPool } from "./storage";

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

/** A connection whose STORAGE_VOL_CREATE_XML fails with `failures` first, then succeeds. */
function creating(...failures: LibvirtError[]) {
  let calls = 0;
  const vol = { pool: "images", name: "disk.qcow2", key: "/images/disk.qcow2" };
  const lv = {
    StorageVolCreateXML: async () => {
      calls++;
      const failure = failures.shift();
      if (failure) throw failure;
      return { vol };
    },
  } as unknown as Libvirt;
  return { lv, calls: () => calls };
}

describe("creating a volume", () => {
  const qemuImgFailed = () =>
    storageError(
      ErrorCode.INTERNAL_ERROR,
      "internal error: Child process (/usr/bin/qemu-img create …) unexpected exit status 1: qemu-img: Unable to get accurate CPU usage",
    );
  const volume = (encrypted: boolean) => ({
    xml: "<volume/>",
    name: "disk.qcow2",
    derivedName: false,
    encrypted,
  });
  const fill = async () => "filled";

  it("tries an encrypted volume's create again after libvirt's internal error", async () => {
    const { lv, calls } = creating(qemuImgFailed());
    await expect(
      createFilledVolume(lv, pool, volume(true), {} as ResourceContext, fill),
    ).resolves.toBe("filled");
    expect(calls()).toBe(2);
  });

  it("fails an encrypted volume's create that fails every try, and any other volume's at once", async () => {
    const failures = Array.from({ length: ENCRYPTED_CREATE_ATTEMPTS }, qemuImgFailed);
    const always = creating(...failures);
    jest.useFakeTimers(); // a second between tries
    try {
      const failed = expect(
        createFilledVolume(always.lv, pool, volume(true), {} as ResourceContext, fill),
      ).rejects.toThrow("CPU usage");
      await jest.advanceTimersByTimeAsync(ENCRYPTED_CREATE_ATTEMPTS * 1000);
      await failed;
    } finally {
      jest.useRealTimers();
    }
    expect(always.calls()).toBe(ENCRYPTED_CREATE_ATTEMPTS);
    const plain = creating(qemuImgFailed());
    await expect(
      createFilledVolume(plain.lv, pool, volume(false), {} as ResourceContext, fill),
    ).rejects.toThrow("CPU usage");
    expect(plain.calls()).toBe(1);
  });
});
