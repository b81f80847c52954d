import { LibvirtError, isNotFound } from "./errors";
import { ErrorCode, ErrorDomain, ErrorLevel } from "./protocol/error-codes";

const noDomain = {
  code: ErrorCode.NO_DOMAIN,
  domain: ErrorDomain.QEMU,
  message: "Domain not found: no domain with matching name 'web'",
  level: ErrorLevel.ERROR,
  str1: null,
  str2: null,
  str3: null,
  int1: -1,
  int2: -1,
};

describe("LibvirtError", () => {
  it("carries libvirt's code and domain by name, and the procedure that failed", () => {
    const error = new LibvirtError(noDomain, "DomainLookupByName");
    expect(error).toMatchObject({
      name: "LibvirtError",
      codeName: "VIR_ERR_NO_DOMAIN",
      domainName: "VIR_FROM_QEMU",
      procedure: "DomainLookupByName",
    });
    expect(isNotFound(error)).toBe(true);
  });

  it("has a stack of just its name and message, without the socket handler's frames", () => {
    const error = new LibvirtError(noDomain);
    expect(error.stack).toBe(`LibvirtError: ${noDomain.message}`);
    expect(error).toBeInstanceOf(Error);
  });

  it("leaves stack traces of other errors as they were", () => {
    const limit = Error.stackTraceLimit;
    new LibvirtError(noDomain);
    expect(Error.stackTraceLimit).toBe(limit);
    expect(new Error("other").stack).toContain("errors.test.ts");
  });
});
