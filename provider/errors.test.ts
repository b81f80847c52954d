import { ErrorCode, LibvirtError } from "../rpc";
import { unlessNotFound } from "./errors";

function libvirtError(code: number): LibvirtError {
  return new LibvirtError({
    code,
    domain: 10,
    message: "libvirt says no",
    level: 2,
    str1: null,
    str2: null,
    str3: null,
    int1: -1,
    int2: -1,
  });
}

describe("unlessNotFound", () => {
  it("gives what the work returns", async () => {
    await expect(unlessNotFound(async () => "found")).resolves.toBe("found");
  });

  it("gives undefined when libvirt says the object does not exist", async () => {
    const gone = libvirtError(ErrorCode.NO_DOMAIN);
    await expect(unlessNotFound(() => Promise.reject(gone))).resolves.toBeUndefined();
  });

  it("throws any other error", async () => {
    const denied = libvirtError(ErrorCode.OPERATION_DENIED);
    await expect(unlessNotFound(() => Promise.reject(denied))).rejects.toBe(denied);
  });
});
