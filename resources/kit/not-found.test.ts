import { ErrorCode, ErrorDomain } from "../../rpc";
import { libvirtError } from "../../test/support/packets";
import { unlessNotFound } from "./not-found";

describe("unlessNotFound", () => {
  it("gives what the work returns", async () => {
    await expect(unlessNotFound(async () => "found")).resolves.toBe("found");
  });

  it("gives undefined when libvirt says the object does not exist", async () => {
    const gone = libvirtError({
      code: ErrorCode.NO_DOMAIN,
      domain: ErrorDomain.QEMU,
      message: "gone",
    });
    await expect(unlessNotFound(() => Promise.reject(gone))).resolves.toBeUndefined();
  });

  it("throws any other error", async () => {
    const denied = libvirtError({
      code: ErrorCode.OPERATION_DENIED,
      domain: ErrorDomain.QEMU,
      message: "no",
    });
    await expect(unlessNotFound(() => Promise.reject(denied))).rejects.toBe(denied);
  });
});
