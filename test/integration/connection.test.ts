import { Libvirt, LibvirtError, ErrorCode, isNotFound, ConnectionClosedError } from "../../rpc";
import {
  TEST_DRIVER_URI,
  TEST_SOCKET,
  TEST_URI,
  connectTestbed,
  uniqueName,
} from "../support/testbed";

describe("a connection to the test bed daemon", () => {
  let lv: Libvirt;

  beforeAll(async () => {
    lv = await connectTestbed();
  });

  afterAll(async () => {
    await lv?.close();
  });

  it("opens with the features libvirt's own client checks", () => {
    expect(lv.uri.name).toBe(TEST_URI.replace(/\?.*$/, ""));
    expect(lv.features).toEqual({
      keepalive: true,
      eventCallbacks: true,
      closeCallback: true,
      networkUpdateHasCorrectOrder: true,
    });
  });

  it("reports the libvirt version of the daemon as a bigint", async () => {
    const { lib_ver } = await lv.ConnectGetLibVersion();
    expect(typeof lib_ver).toBe("bigint");
    expect(lib_ver).toBeGreaterThanOrEqual(9_000_000n);
  });

  it("reports the hypervisor type and version", async () => {
    await expect(lv.ConnectGetType()).resolves.toEqual({ type: "QEMU" });
    const { hv_ver } = await lv.ConnectGetVersion();
    expect(hv_ver).toBeGreaterThan(0n);
  });

  it("reports the host name and the capabilities XML", async () => {
    const { hostname } = await lv.ConnectGetHostname();
    expect(hostname.length).toBeGreaterThan(0);
    const { capabilities } = await lv.ConnectGetCapabilities();
    expect(capabilities).toMatch(/^<capabilities>/);
    expect(capabilities).toContain("<arch>x86_64</arch>");
  });

  it("lists all domains and looks each one up by name", async () => {
    const { domains, ret } = await lv.ConnectListAllDomains({ need_results: 1, flags: 0 });
    expect(ret).toBe(domains.length);
    for (const dom of domains) {
      const { dom: found } = await lv.DomainLookupByName({ name: dom.name });
      expect(found.uuid).toEqual(dom.uuid);
    }
  });

  it("maps a missing domain to the typed not-found error", async () => {
    const name = uniqueName("missing");
    const error = await lv.DomainLookupByName({ name }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LibvirtError);
    expect(isNotFound(error)).toBe(true);
    expect(error).toMatchObject({ code: ErrorCode.NO_DOMAIN, codeName: "VIR_ERR_NO_DOMAIN" });
    expect((error as LibvirtError).message).toContain(name);
  });

  it("answers 200 concurrent calls on one connection, each with its own result", async () => {
    const names = Array.from({ length: 200 }, (_, i) => uniqueName(`c${i}`));
    const results = await Promise.all(
      names.map((name, i) =>
        i % 2 === 0
          ? lv.DomainLookupByName({ name }).then(
              () => "found",
              (e: unknown) =>
                isNotFound(e) && (e as Error).message.includes(name) ? name : "wrong",
            )
          : lv.ConnectGetLibVersion().then(({ lib_ver }) => lib_ver),
      ),
    );
    const { lib_ver } = await lv.ConnectGetLibVersion();
    results.forEach((result, i) => expect(result).toEqual(i % 2 === 0 ? names[i] : lib_ver));
    expect(lv.connection.pendingCalls).toBe(0);
  });

  it("sends CONNECT_CLOSE on close and refuses calls afterwards", async () => {
    const other = await connectTestbed();
    await other.close();
    expect(other.closed).toBe(true);
    await expect(other.ConnectGetLibVersion()).rejects.toThrow(ConnectionClosedError);
  });
});

describe("opening a connection", () => {
  it("explains a missing socket", async () => {
    await expect(
      Libvirt.connect(`${TEST_DRIVER_URI}?socket=/nonexistent/vwtest.sock`),
    ).rejects.toThrow(/no daemon is listening there/);
  });

  it("explains a driver the daemon does not have", async () => {
    await expect(Libvirt.connect(`nosuchdriver:///system?socket=${TEST_SOCKET}`)).rejects.toThrow(
      LibvirtError,
    );
  });
});
