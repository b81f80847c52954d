import { secretDefaults } from "../kit/generated/checked";
import type { CheckedSecretInputs } from "../kit/generated/checked";
import { checkSecret } from "./check";
import { valueBytes, valueRead } from "./value";
import { buildSecretXml, readSecretXml } from "./xml";

const inputs = (given: Partial<CheckedSecretInputs>) =>
  ({ ...secretDefaults, ...given }) as CheckedSecretInputs;

describe("a Secret's XML", () => {
  it("carries the usage id in the element libvirt reads for each usage type", () => {
    const volume = buildSecretXml({ ...inputs({ usageType: "volume", usageId: "/v/a.img" }) });
    expect(volume).toContain('<usage type="volume">');
    expect(volume).toContain("<volume>/v/a.img</volume>");
    expect(buildSecretXml(inputs({ usageType: "iscsi", usageId: "t1" }))).toContain(
      "<target>t1</target>",
    );
    expect(buildSecretXml(inputs({ usageType: "ceph", usageId: "c" }))).toContain("<name>c</name>");
  });

  it("is read back as it was built, with its UUID and flags", () => {
    const uuid = "0b2c0ea0-6d8a-8f3a-9c6e-5a3b2c1d0e0f";
    const built = buildSecretXml({
      ...inputs({ usageType: "tls", usageId: "tls & co", description: "<d>", private: true }),
      uuid,
    });
    expect(readSecretXml(built)).toEqual({
      uuid,
      usageType: "tls",
      usageId: "tls & co",
      description: "<d>",
      private: true,
      ephemeral: false,
    });
  });

  it("has no usage element for usage type none", () => {
    expect(buildSecretXml(inputs({}))).not.toContain("usage");
    expect(readSecretXml(buildSecretXml(inputs({}))).usageType).toBe("none");
  });
});

describe("a Secret's check", () => {
  it("wants a usage id with a usage type, and none without", () => {
    expect(checkSecret(inputs({ usageType: "ceph" }))).toEqual([
      expect.objectContaining({ property: "usageId" }),
    ]);
    expect(checkSecret(inputs({ usageId: "x" }))[0]?.reason).toMatch(/usageType is none/);
    expect(checkSecret(inputs({ usageType: "ceph", usageId: "x" }))).toEqual([]);
  });

  it("wants a volume's absolute path for a volume secret", () => {
    expect(checkSecret(inputs({ usageType: "volume", usageId: "a.img" }))[0]?.reason).toMatch(
      /absolute path/,
    );
  });

  it("refuses a value that is not base64 when it says it is, without quoting it", () => {
    const [failure] = checkSecret(inputs({ value: "hunter2!", valueEncoding: "base64" }));
    expect(failure?.property).toBe("value");
    expect(failure?.reason).not.toContain("hunter2");
  });

  it("refuses a value larger than libvirt keeps", () => {
    expect(checkSecret(inputs({ value: "x".repeat(65537) }))[0]?.reason).toMatch(/65536/);
  });
});

describe("a Secret's value read back", () => {
  it("stays as given when it stands for the same bytes", () => {
    const given = "AAEC\n/w";
    const stored = valueBytes(given, "base64");
    expect(valueRead(stored, given, "base64")).toEqual({ value: given, valueEncoding: "base64" });
  });

  it("is the stored text when it changed behind virtwire's back", () => {
    expect(valueRead(Buffer.from("new"), "old", "utf8")).toEqual({
      value: "new",
      valueEncoding: "utf8",
    });
  });

  it("comes back in base64 when the stored bytes are no text", () => {
    expect(valueRead(Buffer.from([0xff, 0x00]), undefined, "utf8")).toEqual({
      value: "/wA=",
      valueEncoding: "base64",
    });
  });
});
