import { buildIso9660 } from "./iso9660";
import {
  buildNoCloudIso,
  derivedInstanceId,
  topLevelInstanceId,
  withInstanceId,
  NOCLOUD_VOLUME_ID,
  NoCloudError,
} from "./nocloud";

const userData = "#cloud-config\npackages: [htop]\n";
const networkConfig = "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n";

describe("buildNoCloudIso", () => {
  it("labels the image cidata and records user-data, meta-data and network-config", () => {
    const seed = { userData, metaData: "local-hostname: web-1\n", networkConfig };
    const { image, instanceId, metaData } = buildNoCloudIso(seed);
    expect(NOCLOUD_VOLUME_ID).toBe("cidata");
    expect(metaData).toBe(`instance-id: ${instanceId}\nlocal-hostname: web-1\n`);
    const expected = buildIso9660({
      volumeId: "cidata",
      files: [
        { name: "user-data", data: Buffer.from(userData) },
        { name: "meta-data", data: Buffer.from(metaData) },
        { name: "network-config", data: Buffer.from(networkConfig) },
      ],
    });
    expect(image.equals(expected)).toBe(true);
  });

  it("records only the parts it is given", () => {
    const { image, metaData } = buildNoCloudIso({ userData, vendorData: "#cloud-config\n" });
    const files = [
      { name: "user-data", data: Buffer.from(userData) },
      { name: "meta-data", data: Buffer.from(metaData) },
      { name: "vendor-data", data: Buffer.from("#cloud-config\n") },
    ];
    expect(image.equals(buildIso9660({ volumeId: "cidata", files }))).toBe(true);
  });

  it("derives the same instance-id and bytes from the same content", () => {
    const first = buildNoCloudIso({ userData, networkConfig });
    const second = buildNoCloudIso({ userData: Buffer.from(userData), networkConfig });
    expect(first.instanceId).toMatch(/^iid-[0-9a-f]{16}$/);
    expect(second.instanceId).toBe(first.instanceId);
    expect(second.image.equals(first.image)).toBe(true);
  });

  it("keeps the caller's instance-id and meta-data unchanged", () => {
    const metaData = "instance-id: my-vm-7\nlocal-hostname: web-1\n";
    const result = buildNoCloudIso({ userData, metaData });
    expect(result.instanceId).toBe("my-vm-7");
    expect(result.metaData).toBe(metaData);
  });

  it("keeps the caller's instance-id when the user-data changes, so the guest keeps its host keys", () => {
    const metaData = "instance-id: vm1\nlocal-hostname: vm1\n";
    const before = buildNoCloudIso({ userData, metaData });
    const after = buildNoCloudIso({ userData: `${userData}runcmd: [touch /x]\n`, metaData });
    expect(after.instanceId).toBe("vm1");
    expect(after.instanceId).toBe(before.instanceId);
    expect(after.metaData).toBe(metaData);
    expect(after.image.equals(before.image)).toBe(false);
    // Without one of the caller's, the derived id follows the user-data.
    expect(buildNoCloudIso({ userData: `${userData} ` }).instanceId).not.toBe(
      buildNoCloudIso({ userData }).instanceId,
    );
  });

  it("refuses meta-data whose instance-id is empty", () => {
    const seed = { userData, metaData: "instance-id:\nlocal-hostname: h\n" };
    expect(() => buildNoCloudIso(seed)).toThrow(NoCloudError);
  });

  it("passes the timestamp to the image", () => {
    const timestamp = new Date("2024-01-02T03:04:05Z");
    const dated = buildNoCloudIso({ userData, timestamp });
    expect(dated.image.toString("latin1", 16 * 2048 + 813, 16 * 2048 + 827)).toBe("20240102030405");
  });
});

describe("derivedInstanceId", () => {
  const base = { userData, metaData: "local-hostname: a\n", networkConfig, vendorData: "v" };

  it.each([
    ["user-data", { userData: userData + " " }],
    ["meta-data", { metaData: "local-hostname: b\n" }],
    ["network-config", { networkConfig: "version: 1\n" }],
    ["vendor-data", { vendorData: "w" }],
    ["network-config's presence", { networkConfig: undefined }],
  ])("changes with %s", (_, change) => {
    expect(derivedInstanceId({ ...base, ...change })).not.toBe(derivedInstanceId(base));
  });

  it("changes when bytes move from one part to the next", () => {
    const moved = { userData: "ab", networkConfig: "c" };
    expect(derivedInstanceId(moved)).not.toBe(
      derivedInstanceId({ userData: "a", networkConfig: "bc" }),
    );
  });
});

describe("topLevelInstanceId", () => {
  it.each([
    ["instance-id: iid-local01\n", "iid-local01"],
    ["local-hostname: x\ninstance-id:   abc  \n", "abc"],
    ['instance-id: "quoted id"\n', "quoted id"],
    ["instance-id: 'single' # a comment\n", "single"],
    ['"instance-id": x\r\n', "x"],
    ['{"instance-id": "from-json", "local-hostname": "h"}', "from-json"],
  ])("reads the id from %j", (metaData, expected) => {
    expect(topLevelInstanceId(metaData)).toBe(expected);
  });

  it.each([
    ["", "no meta-data"],
    ["local-hostname: x\n", "no instance-id key"],
    ["network:\n  instance-id: nested\n", "an indented key"],
    ["# instance-id: commented\n", "a comment"],
    ['{"local-hostname": "h"}', "a JSON object without it"],
  ])("finds none in %j (%s)", (metaData) => {
    expect(topLevelInstanceId(metaData)).toBeUndefined();
  });
});

describe("withInstanceId", () => {
  it("prepends the key, leaving the rest as written", () => {
    expect(withInstanceId("local-hostname: web-1\n", "iid-1")).toBe(
      "instance-id: iid-1\nlocal-hostname: web-1\n",
    );
    expect(withInstanceId("", "iid-1")).toBe("instance-id: iid-1\n");
  });

  it("adds the key after a leading document marker, so there stays one YAML document", () => {
    expect(withInstanceId("# seed\n---\nlocal-hostname: h\n", "iid-1")).toBe(
      "# seed\n---\ninstance-id: iid-1\nlocal-hostname: h\n",
    );
  });

  it("adds the member to JSON meta-data", () => {
    const metaData = withInstanceId('{"local-hostname": "h"}', "iid-1");
    expect(JSON.parse(metaData)).toEqual({ "instance-id": "iid-1", "local-hostname": "h" });
  });
});
