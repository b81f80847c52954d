import { applyDefaults } from "./check";
import { canonical, nameDigits } from "./naming";

const URN = "urn:pulumi:dev::lab::pulumi-nodejs:dynamic/virtwire:Volume::disk";

const volume = (fields: Record<string, unknown> = {}) => ({
  __kind: "Volume",
  __logicalName: "disk",
  __urn: URN,
  pool: "images",
  capacity: "1GiB",
  ...fields,
});

const nameOf = (news: Record<string, unknown>, olds: Record<string, unknown> = {}) =>
  applyDefaults("Volume", olds, news).name as string;

describe("auto-names of resources whose URN is known", () => {
  it("are the same when a failed create is retried with the same program", () => {
    expect(nameOf(volume())).toMatch(/^disk-[0-9a-f]{7}$/);
    expect(nameOf(volume())).toBe(nameOf(volume()));
  });

  it("differ for another stack or resource (another URN)", () => {
    expect(nameOf(volume({ __urn: URN.replace("dev", "prod") }))).not.toBe(nameOf(volume()));
  });

  it("differ when the inputs differ, so a replacement can be made beside the old object", () => {
    expect(nameOf(volume({ capacity: "2GiB" }))).not.toBe(nameOf(volume()));
    expect(nameOf(volume({ format: "qcow2" }))).not.toBe(nameOf(volume()));
  });

  it("do not depend on the provider text, hidden flags or the order of keys", () => {
    const reordered = { capacity: "1GiB", pool: "images", __urn: URN, __logicalName: "disk" };
    const noisy = volume({ __provider: "exports.handler = …", __fresh: true, format: undefined });
    expect(nameOf({ __kind: "Volume", ...reordered })).toBe(nameOf(volume()));
    expect(nameOf(noisy)).toBe(nameOf(volume()));
  });

  it("leave secret inputs out: a name is no clue to a secret", () => {
    const resource = {
      inputProperties: { name: {}, password: { secret: true }, size: {} },
      properties: {},
    };
    const digits = (fields: Record<string, unknown>) =>
      nameDigits(resource, { __urn: URN, size: 1, ...fields }, "name");
    expect(digits({ password: "a" })).toBe(digits({ password: "b" }));
    expect(digits({ size: 2 })).not.toBe(digits({}));
  });

  it("are kept on later updates, as before", () => {
    const first = applyDefaults("Volume", {}, volume());
    expect(nameOf(volume({ capacity: "5GiB" }), first)).toBe(first.name);
  });
});

describe("auto-names without a URN", () => {
  it("are random, as before", () => {
    const without = { ...volume(), __urn: undefined };
    const names = new Set([1, 2, 3].map(() => nameOf(without)));
    expect(names.size).toBe(3);
  });
});

describe("canonical JSON", () => {
  it("sorts keys at every depth and leaves unset values out", () => {
    expect(canonical({ b: 1, a: { d: [{ y: 1, x: null }], c: undefined } })).toBe(
      '{"a":{"d":[{"y":1}]},"b":1}',
    );
  });
});
