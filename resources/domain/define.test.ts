import { ErrorCode, ErrorDomain, LibvirtError } from "../../rpc";
import type { Libvirt, RemoteNonnullDomain } from "../../rpc";
import { SCHEMA_RETRY_MS, SCHEMA_TRIES, defineValidated } from "./define";

const DOM = { name: "vm", uuid: new Uint8Array(16), id: -1 } as RemoteNonnullDomain;

function daemonError(code: ErrorCode, domain: ErrorDomain, message: string): LibvirtError {
  return new LibvirtError({
    code,
    domain,
    message,
    level: 2,
    ...{ str1: null, str2: null, str3: null, int1: 0, int2: 0 },
  });
}

// As libvirtd 9.0 on Debian 12 answered three defines at once just after it was restarted.
const schemaHalfLoaded = () =>
  daemonError(
    ErrorCode.INTERNAL_ERROR,
    ErrorDomain.XML,
    "internal error: Unable to parse RNG /usr/share/libvirt/schemas/domain.rng: Error type " +
      "'unsignedInt' is not exported by type library 'http://www.w3.org/2001/XMLSchema-datatypes'",
  );
const invalidDocument = () =>
  daemonError(ErrorCode.XML_INVALID_SCHEMA, ErrorDomain.XML, "XML document failed to validate");

/** A daemon whose defines fail with `failures`, in order, then succeed. */
function defining(...failures: LibvirtError[]) {
  let calls = 0;
  const lv = {
    DomainDefineXMLFlags: async () => {
      const failure = failures[calls++];
      if (failure) throw failure;
      return { dom: DOM };
    },
  } as unknown as Libvirt;
  return { lv, calls: () => calls };
}

describe("defining a domain with libvirt's schema check", () => {
  afterEach(() => jest.useRealTimers());

  it("tries again while the daemon cannot load its own schema, and defines the domain", async () => {
    jest.useFakeTimers();
    const { lv, calls } = defining(schemaHalfLoaded(), schemaHalfLoaded());
    const defined = defineValidated(lv, "<domain/>");
    await jest.advanceTimersByTimeAsync(2 * SCHEMA_RETRY_MS);
    await expect(defined).resolves.toBe(DOM);
    expect(calls()).toBe(3);
  });

  it("gives the daemon's error after the last try", async () => {
    jest.useFakeTimers();
    const failures = Array.from({ length: SCHEMA_TRIES }, schemaHalfLoaded);
    const { lv, calls } = defining(...failures);
    const defined = expect(defineValidated(lv, "<domain/>")).rejects.toThrow("Unable to parse RNG");
    await jest.advanceTimersByTimeAsync(SCHEMA_TRIES * SCHEMA_RETRY_MS);
    await defined;
    expect(calls()).toBe(SCHEMA_TRIES);
  });

  it("never tries again a document the schema refuses", async () => {
    const { lv, calls } = defining(invalidDocument());
    await expect(defineValidated(lv, "<domain/>")).rejects.toThrow("failed to validate");
    expect(calls()).toBe(1);
  });

  it("never tries again an internal error of another part of the daemon", async () => {
    const other = daemonError(ErrorCode.INTERNAL_ERROR, ErrorDomain.QEMU, "internal error");
    const { lv, calls } = defining(other);
    await expect(defineValidated(lv, "<domain/>")).rejects.toThrow("internal error");
    expect(calls()).toBe(1);
  });
});
