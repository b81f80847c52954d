import { createProvider } from "../../provider/dispatch";
import { UNKNOWN } from "../kit/check";
import type { VolumeInputs, VolumeOutputs } from "../kit/generated/types";
import { registry } from "../registry";
import { checkVolume, diffVolume } from "./rules";

// The rules alone: nothing asks libvirt or looks for files.
const provider = createProvider(registry, { askHosts: false });

const GiB = 1024 ** 3;
const URN = "urn:pulumi:dev::lab::pulumi-nodejs:dynamic/virtwire:Volume::data";

/** The outputs of a 10 GiB raw volume `data` in pool `images`. */
const current = (fields: Partial<VolumeOutputs> = {}): VolumeOutputs => ({
  name: "data",
  pool: "images",
  capacity: 10 * GiB,
  allocation: 4096,
  format: "raw",
  key: "/srv/images/data",
  path: "/srv/images/data",
  wipeOnDelete: "none",
  ...fields,
});

const wanted = (fields: Partial<VolumeInputs> = {}): VolumeInputs => ({
  name: "data",
  pool: "images",
  capacity: "10GiB",
  ...fields,
});

const reasons = (inputs: VolumeInputs) =>
  checkVolume(inputs).map((failure) => `${failure.property}: ${failure.reason}`);

describe("Volume check rules", () => {
  it("accepts an empty volume, an upload and an overlay", () => {
    expect(reasons(wanted())).toEqual([]);
    expect(reasons({ pool: "images", source: { path: "disk.img" } })).toEqual([]);
    expect(reasons({ pool: "images", baseVolume: { key: "/srv/images/base" } })).toEqual([]);
    expect(reasons({ pool: "images", baseVolume: { pool: "images", name: "base" } })).toEqual([]);
  });

  it("refuses a source with both a path and a url, or neither", () => {
    expect(reasons({ pool: "p", source: { path: "/a", url: "https://x/a" } })).toEqual([
      "source: source takes a path or a url, not both",
    ]);
    expect(reasons({ pool: "p", source: { sha256: "a".repeat(64) } })).toEqual([
      "source: source needs a path (a file on this machine) or a url",
    ]);
  });

  it("leaves a missing source file to create, so an old upload never blocks an update", () => {
    expect(reasons({ pool: "p", source: { path: "/does/not/exist.img" } })).toEqual([]);
  });

  it("needs a capacity only for an empty volume, and more than 0 bytes", () => {
    expect(reasons({ pool: "p" })[0]).toMatch(/^capacity: capacity is required for an empty/);
    expect(reasons(wanted({ capacity: 0 }))).toEqual([
      "capacity: capacity must be more than 0 bytes",
    ]);
  });

  it("refuses an upload that is also an overlay, and a raw overlay", () => {
    expect(reasons({ pool: "p", source: { path: "/a" }, baseVolume: { key: "/b" } })[0]).toMatch(
      /^baseVolume: a volume is either uploaded/,
    );
    expect(reasons({ pool: "p", format: "raw", baseVolume: { key: "/b" } })[0]).toMatch(
      /^format: an overlay on a base volume is a qcow2 image/,
    );
  });

  it("needs a base volume's key, or its pool and name, not a mix", () => {
    expect(reasons({ pool: "p", baseVolume: { pool: "images" } })[0]).toMatch(/needs a key/);
    expect(reasons({ pool: "p", baseVolume: { key: "/b", name: "b" } })[0]).toMatch(/not both/);
  });

  it("leaves values unknown in preview alone", () => {
    expect(reasons({ pool: UNKNOWN, source: { path: UNKNOWN } })).toEqual([]);
  });
});

describe("the provider's check of a Volume (schema and rules)", () => {
  const check = async (fields: Record<string, unknown>) =>
    (
      await provider.check!(
        {},
        { __kind: "Volume", __logicalName: "data", pool: "images", ...fields },
      )
    ).failures!.map((failure) => failure.reason);

  it("refuses what libvirt would refuse, before anything is created", async () => {
    expect(await check({ name: "a/b", capacity: "1GiB" })).toEqual([
      expect.stringContaining('name "a/b" is not valid'),
    ]);
    expect(await check({ capacity: "ten gigs" })).toEqual([
      expect.stringContaining(
        'capacity "ten gigs" is not a size: use a number of bytes, or a string',
      ),
    ]);
    expect(await check({ source: { url: "https://x/a.img", sha256: "abc" } })).toEqual([
      expect.stringContaining("the 64 hexadecimal digits"),
    ]);
    expect(await check({ source: { url: "ftp://x/a.img" } })).toEqual([
      expect.stringContaining("use an http:// or https:// URL"),
    ]);
    expect(await check({ capacity: "1GiB", format: "vmdk" })).toEqual([
      expect.stringContaining('format must be one of "raw", "qcow2"'),
    ]);
  });

  it("gives an unnamed volume a stable auto-name", async () => {
    const { inputs } = await provider.check!(
      {},
      { __kind: "Volume", __logicalName: "data", pool: "images", capacity: "1GiB" },
    );
    expect(inputs.name).toMatch(/^data-[0-9a-f]{7}$/);
    const again = await provider.check!(inputs, { ...inputs, name: undefined });
    expect(again.inputs.name).toBe(inputs.name);
  });
});

describe("Volume diff rules", () => {
  it("sees no change when the inputs match, sizes compared in bytes", () => {
    expect(diffVolume(current(), wanted())).toEqual({
      changes: false,
      replaces: [],
      changed: [],
      deleteBeforeReplace: false,
    });
    expect(diffVolume(current(), wanted({ capacity: 10 * GiB })).changes).toBe(false);
  });

  it("grows a larger capacity in place", () => {
    expect(diffVolume(current(), wanted({ capacity: "20GiB" }))).toEqual({
      changes: true,
      replaces: [],
      changed: ["capacity"],
      deleteBeforeReplace: false,
    });
  });

  it("refuses a smaller capacity, saying how large it must be and how to recreate it", () => {
    expect(() => diffVolume(current(), wanted({ capacity: "5GiB" }))).toThrow(
      /capacity 5 GiB \(5368709120 bytes\) is smaller than the volume's current 10 GiB .*at least 10737418240, or recreate the volume smaller under another name/,
    );
    // The smaller capacity gives an auto-named volume's replacement a new name.
    const autoNamed = { ...wanted({ capacity: "5GiB" }), __autoNamed: "name" } as VolumeInputs;
    expect(() => diffVolume(current(), autoNamed)).toThrow(
      /at least 10737418240, or recreate the volume smaller: pulumi up --replace <urn> makes the smaller volume under a new name beside this one/,
    );
  });

  it("sees no change in a capacity libvirt rounded up to whole KiB (512 bytes became 1 KiB)", () => {
    const rounded = { ...current(), capacity: 1024 };
    expect(diffVolume(rounded, wanted({ capacity: "512" }))).toMatchObject({ changes: false });
    expect(() => diffVolume(rounded, wanted({ capacity: "0" }))).toThrow(/smaller/);
  });

  it("shows a volume grown outside Pulumi as a change in the diff a refresh asks for", () => {
    expect(diffVolume(current(), wanted({ capacity: "5GiB" }), false)).toEqual({
      changes: true,
      replaces: [],
      changed: ["capacity"],
      deleteBeforeReplace: false,
    });
  });

  it("ignores capacity when none is asked for (the image gives the size)", () => {
    expect(
      diffVolume(current({ capacity: 3 * GiB }), wanted({ capacity: undefined })).changes,
    ).toBe(false);
  });

  it("replaces on another pool, name, host, base volume or source", () => {
    expect(diffVolume(current(), wanted({ pool: "other" })).replaces).toEqual(["pool"]);
    expect(diffVolume(current(), wanted({ host: "kvm2" })).replaces).toEqual(["host"]);
    expect(
      diffVolume(
        current({ format: "qcow2", baseVolume: { key: "/a" } }),
        wanted({ baseVolume: { key: "/b" } }),
      ).replaces,
    ).toEqual(["baseVolume"]);
    expect(
      diffVolume(
        current({ source: { url: "https://x/1.img" } }),
        wanted({ source: { url: "https://x/2.img" } }),
      ).replaces,
    ).toEqual(["source"]);
  });

  it("replaces a fixed name delete-first, an auto-name or a move to another pool create-first", () => {
    const fixed = diffVolume(current(), wanted({ format: "qcow2" }));
    expect(fixed).toMatchObject({ replaces: ["format"], deleteBeforeReplace: true });
    const autoNamed = { ...wanted({ format: "qcow2" }), __autoNamed: "name" } as VolumeInputs;
    expect(diffVolume(current(), autoNamed).deleteBeforeReplace).toBe(false);
    expect(diffVolume(current(), wanted({ pool: "other" })).deleteBeforeReplace).toBe(false);
  });

  it("replaces an auto-named volume delete-first when its replacement would get the same name", async () => {
    const program = { __kind: "Volume", __logicalName: "data", __urn: URN, pool: "images" };
    const checked = async (args: Record<string, unknown>) =>
      (await provider.check!({}, { ...program, ...args })).inputs as VolumeInputs;
    const inputs = await checked({ capacity: "10GiB" });
    // Found as qcow2 by a refresh, while the inputs still ask for raw: the inputs the name is
    // derived from are unchanged, so the replacement has the old name.
    const foundQcow2 = current({ name: inputs.name, format: "qcow2" });
    expect(diffVolume(foundQcow2, inputs)).toMatchObject({
      replaces: ["format"],
      deleteBeforeReplace: true,
    });
    // Asking for qcow2 changes those inputs: a new name, made beside the old volume.
    const asQcow2 = await checked({ capacity: "10GiB", format: "qcow2" });
    expect(asQcow2.name).not.toBe(inputs.name);
    const keptName = { ...asQcow2, name: inputs.name } as VolumeInputs; // check keeps it in a diff
    expect(diffVolume(current({ name: inputs.name }), keptName)).toMatchObject({
      replaces: ["format"],
      deleteBeforeReplace: false,
    });
  });

  it("follows the default format: raw when empty, qcow2 for an overlay, the image's for an upload", () => {
    expect(diffVolume(current({ format: "qcow2" }), wanted()).replaces).toEqual(["format"]);
    expect(diffVolume(current({ format: "iso" }), wanted({ format: "raw" })).replaces).toEqual([]);
    const upload = { source: { path: "/a.qcow2" }, capacity: undefined };
    expect(diffVolume(current({ format: "qcow2", ...upload }), wanted(upload)).changes).toBe(false);
  });

  it("records a source.sha256 matching what was uploaded without replacing the volume", () => {
    const digest = "ab".repeat(32);
    const olds = current({ source: { url: "https://x/a.img" }, contentSha256: digest });
    const same = wanted({
      capacity: undefined,
      source: { url: "https://x/a.img", sha256: digest.toUpperCase() },
    });
    expect(diffVolume(olds, same)).toMatchObject({ changes: true, replaces: [] });
    const other = wanted({
      capacity: undefined,
      source: { url: "https://x/a.img", sha256: "cd".repeat(32) },
    });
    expect(diffVolume(olds, other).replaces).toEqual(["source"]);
  });

  it("keeps the volume when a checked source moves (a mirror, a freshly signed link)", () => {
    const digest = "ab".repeat(32);
    const olds = current({
      source: { url: "https://x/a.img?sig=1", sha256: digest },
      contentSha256: digest,
    });
    const moved = wanted({
      capacity: undefined,
      source: { url: "https://mirror/a.img?sig=2", sha256: digest },
    });
    expect(diffVolume(olds, moved)).toMatchObject({ changes: true, replaces: [] });
    const unchecked = wanted({ capacity: undefined, source: { url: "https://mirror/a.img" } });
    expect(diffVolume(olds, unchecked).replaces).toEqual(["source"]);
    const same = wanted({
      capacity: undefined,
      source: { url: "https://x/a.img?sig=1", sha256: digest },
    });
    expect(diffVolume(olds, same).changes).toBe(false);
  });

  it("treats values unknown in preview as changes, never as a shrink", () => {
    expect(diffVolume(current(), wanted({ pool: UNKNOWN })).replaces).toEqual(["pool"]);
    expect(diffVolume(current(), wanted({ capacity: UNKNOWN })).changes).toBe(true);
  });
});

describe("Volume copies and wiping", () => {
  const original = { pool: "images", name: "golden" };

  it("takes a copy without capacity, but not with an upload or a base volume", () => {
    expect(checkVolume({ pool: "images", cloneOf: original })).toEqual([]);
    const both = checkVolume({ pool: "images", cloneOf: original, baseVolume: original });
    expect(both.map((failure) => failure.property)).toContain("cloneOf");
  });

  it("replaces a copy of another original, and keeps the copy's format when none is asked for", () => {
    const copy = current({ cloneOf: original, format: "qcow2" });
    expect(diffVolume(copy, wanted({ cloneOf: original, capacity: undefined })).changes).toBe(
      false,
    );
    const other = wanted({ cloneOf: { pool: "images", name: "other" }, capacity: undefined });
    expect(diffVolume(copy, other).replaces).toEqual(["cloneOf"]);
  });

  it("changes wipeOnDelete in place, and reads a volume made before it as not wiped", () => {
    const result = diffVolume(current(), wanted({ wipeOnDelete: "zero" }));
    expect(result).toMatchObject({ changes: true, replaces: [], changed: ["wipeOnDelete"] });
    expect(diffVolume(current({ wipeOnDelete: undefined }), wanted()).changes).toBe(false);
  });
});

describe("Volume encryption rules", () => {
  const encryption = { secret: "416110b7-6492-4554-9866-471115544a41" };

  it("refuses encrypting an upload or a copy, and takes an empty volume or an overlay", () => {
    const upload = checkVolume({ pool: "p", encryption, source: { path: "/a.img" } });
    expect(upload.map((failure) => failure.property)).toEqual(["encryption"]);
    const copy = checkVolume({ pool: "p", encryption, cloneOf: { pool: "p", name: "a" } });
    expect(copy.map((failure) => failure.property)).toEqual(["encryption"]);
    expect(checkVolume({ pool: "p", encryption, capacity: "1GiB" })).toEqual([]);
    expect(checkVolume({ pool: "p", encryption, baseVolume: { key: "/b" } })).toEqual([]);
  });

  it("replaces the volume when the encryption changes", () => {
    expect(diffVolume(current(), wanted({ encryption })).replaces).toEqual(["encryption"]);
  });
});
