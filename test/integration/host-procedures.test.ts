import { cpus } from "node:os";
import {
  DriverFeature,
  ErrorCode,
  Libvirt,
  LibvirtError,
  RemoteAuthType,
} from "../../rpc/internal";
import { TEST_DRIVER_URI, connectTestbed } from "../support/testbed";

describe("the host and connection procedures against the test bed daemon", () => {
  let lv: Libvirt;

  beforeAll(async () => {
    lv = await connectTestbed();
  });

  afterAll(async () => {
    await lv?.close();
  });

  it("reports the node's CPU model, memory and topology from NODE_GET_INFO", async () => {
    const info = await lv.NodeGetInfo();
    const { capabilities } = await lv.ConnectGetCapabilities();
    expect(capabilities).toContain(`<arch>${info.model}</arch>`);
    expect(info.cpus).toBe(cpus().length);
    expect(info.nodes * info.sockets * info.cores * info.threads).toBe(info.cpus);
    expect(info.memory).toBeGreaterThan(64n * 1024n);
    expect(info.mhz).toBeGreaterThanOrEqual(0);
  });

  it("reports free memory in bytes, less than the node's memory", async () => {
    const [{ freeMem }, { memory }] = await Promise.all([lv.NodeGetFreeMemory(), lv.NodeGetInfo()]);
    expect(freeMem).toBeGreaterThan(0n);
    expect(freeMem).toBeLessThanOrEqual(memory * 1024n);
  });

  it("reports the maximum vCPUs of a qemu domain, and of the default type", async () => {
    const { max_vcpus } = await lv.ConnectGetMaxVcpus({ type: "qemu" });
    expect(max_vcpus).toBeGreaterThanOrEqual(1);
    await expect(lv.ConnectGetMaxVcpus({ type: null })).resolves.toEqual({ max_vcpus });
  });

  it("describes what a TCG domain of the host's arch can use", async () => {
    const { capabilities } = await lv.ConnectGetDomainCapabilities({
      emulatorbin: null,
      arch: "x86_64",
      machine: null,
      virttype: "qemu",
      flags: 0,
    });
    expect(capabilities).toMatch(/^<domainCapabilities>/);
    expect(capabilities).toContain("<domain>qemu</domain>");
    expect(capabilities).toContain("<arch>x86_64</arch>");
  });

  it("refuses domain capabilities for a virt type the host lacks", async () => {
    const error = await lv
      .ConnectGetDomainCapabilities({
        emulatorbin: null,
        arch: "x86_64",
        machine: null,
        virttype: "xen",
        flags: 0,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LibvirtError);
  });

  it("returns the host's SMBIOS data, or says that the host has none", async () => {
    const result = await lv.ConnectGetSysinfo({ flags: 0 }).catch((e: unknown) => e);
    if (result instanceof LibvirtError) {
      expect(result.code).toBe(ErrorCode.CONFIG_UNSUPPORTED);
      expect(result.message).toContain("SMBIOS");
    } else {
      expect((result as { sysinfo: string }).sysinfo).toMatch(/^<sysinfo/);
    }
  });

  it("reports the URI it opened and that a unix socket is secure", async () => {
    await expect(lv.ConnectGetURI()).resolves.toEqual({ uri: TEST_DRIVER_URI });
    await expect(lv.ConnectIsSecure()).resolves.toEqual({ secure: 1 });
  });

  it("answers feature questions: 1 for known features, 0 for unknown ones", async () => {
    const ask = (feature: number) => lv.ConnectSupportsFeature({ feature });
    await expect(ask(DriverFeature.TYPED_PARAM_STRING)).resolves.toEqual({ supported: 1 });
    await expect(ask(DriverFeature.NETWORK_UPDATE_HAS_CORRECT_ORDER)).resolves.toEqual({
      supported: 1,
    });
    await expect(ask(9999)).resolves.toEqual({ supported: 0 });
  });

  it("lists no authentication on the test bed's socket, and refuses polkit there", async () => {
    await expect(lv.AuthList()).resolves.toEqual({ types: [RemoteAuthType.NONE] });
    // The daemon fails the call without setting an error of its own, so the code and domain are
    // whatever its worker thread last held: only the failure itself is certain.
    const error = await lv.AuthPolkit().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LibvirtError);
    expect(error).toMatchObject({ procedure: "AuthPolkit" });
  });
});
