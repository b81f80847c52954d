import { UNKNOWN } from "../kit/check";
import type { CloudInitDiskInputs, CloudInitDiskOutputs } from "../kit/generated/types";
import { cloudInitDiskHandlers, contentHash, diffCloudInitDisk, diskName } from "./handlers";

const inputs = (fields: Partial<CloudInitDiskInputs> = {}): CloudInitDiskInputs =>
  ({
    __logicalName: "seed",
    pool: "images",
    userData: "#cloud-config\npassword: hunter2\n",
    ...fields,
  }) as CloudInitDiskInputs;

const outputsOf = (given: CloudInitDiskInputs): CloudInitDiskOutputs => ({
  ...given,
  name: diskName(given)!,
  key: `/srv/images/${diskName(given)}`,
  path: `/srv/images/${diskName(given)}`,
  size: 374784,
  instanceId: "iid-0123456789abcdef",
});

const diff = (olds: CloudInitDiskOutputs, news: CloudInitDiskInputs) =>
  diffCloudInitDisk(olds, news);

describe("CloudInitDisk names", () => {
  it("are the resource name and 7 hex digits of the data, the same for the same data", () => {
    expect(diskName(inputs())).toMatch(/^seed-[0-9a-f]{7}$/);
    expect(diskName(inputs())).toBe(diskName(inputs()));
    expect(diskName(inputs({ userData: "#cloud-config\n" }))).not.toBe(diskName(inputs()));
    expect(diskName(inputs({ networkConfig: "version: 2\n" }))).not.toBe(diskName(inputs()));
  });

  it("carry the resource's URN when it is known: two stacks with the same data differ", () => {
    const urn = (stack: string) =>
      `urn:pulumi:${stack}::lab::pulumi-nodejs:dynamic/virtwire:CloudInitDisk::seed`;
    const named = (stack: string) => diskName({ ...inputs(), __urn: urn(stack) } as never);
    expect(named("dev")).toMatch(/^seed-[0-9a-f]{7}$/);
    expect(named("dev")).toBe(named("dev"));
    expect(named("dev")).not.toBe(named("prod"));
    expect(named("dev")).not.toBe(diskName(inputs()));
  });

  it("made before names carried the URN are kept while the data stays the same", () => {
    const urn = "urn:pulumi:dev::lab::pulumi-nodejs:dynamic/virtwire:CloudInitDisk::seed";
    const legacy = outputsOf(inputs());
    expect(diff(legacy, { ...inputs(), __urn: urn } as never)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    const changed = diff(legacy, { ...inputs({ metaData: "x: 1\n" }), __urn: urn } as never);
    expect(changed.replaces).toEqual(["metaData", "name"]);
  });

  it("hash each part with its name and length, so moving bytes between parts counts", () => {
    expect(contentHash(inputs({ userData: "ab", metaData: "c" }))).not.toBe(
      contentHash(inputs({ userData: "a", metaData: "bc" })),
    );
    // Pinned: a derived name must not change between virtwire versions.
    expect(contentHash(inputs({ userData: "hello" }))).toBe(
      "84033395644038afcfc3277dd2d67aa6a8183e9189e0a533a53527a29cde885b",
    );
  });

  it("keep a given name, and are unknown while the data is", () => {
    expect(diskName(inputs({ name: "seed.iso" }))).toBe("seed.iso");
    expect(diskName(inputs({ userData: UNKNOWN }))).toBeUndefined();
  });

  it("replace characters libvirt refuses in the resource name", () => {
    expect(diskName(inputs({ __logicalName: "web/01 seed" } as never))).toMatch(
      /^web-01-seed-[0-9a-f]{7}$/,
    );
  });
});

describe("CloudInitDisk diff", () => {
  it("sees no change for the same data", () => {
    expect(diff(outputsOf(inputs()), inputs())).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  it("keeps the disk and its name when only the URN changed (a renamed stack, an alias)", () => {
    const olds = outputsOf(inputs({ __urn: "urn:pulumi:dev::lab::x::seed" } as never));
    const renamed = inputs({ __urn: "urn:pulumi:prod::lab::x::seed" } as never);
    expect(diskName(renamed)).not.toBe(olds.name);
    expect(diff(olds, renamed)).toMatchObject({ changes: false, replaces: [] });
  });

  it("replaces the disk create-first under a new name when the data changes", () => {
    const changed = inputs({ userData: "#cloud-config\npassword: other\n" });
    expect(diff(outputsOf(inputs()), changed)).toEqual({
      changes: true,
      replaces: ["userData", "name"],
      deleteBeforeReplace: false,
    });
  });

  it("replaces a disk with a fixed name delete-first, since the name stays taken", () => {
    const olds = outputsOf(inputs({ name: "seed.iso" }));
    expect(diff(olds, inputs({ name: "seed.iso", metaData: "local-hostname: web\n" }))).toEqual({
      changes: true,
      replaces: ["metaData"],
      deleteBeforeReplace: true,
    });
  });

  // Found by generated inputs (seed 1850610453, CloudInitDisk case 1): host "default" to unset
  // replaced the disk new one first, and its fixed name was still taken.
  it('replaces a disk with a fixed name delete-first when host goes from "default" to unset', () => {
    const olds = outputsOf(inputs({ name: "seed.iso", host: "default" }));
    expect(diff(olds, inputs({ name: "seed.iso", vendorData: "x" }))).toEqual({
      changes: true,
      replaces: ["vendorData"],
      deleteBeforeReplace: true,
    });
    expect(diff(olds, inputs({ name: "seed.iso" })).changes).toBe(false);
  });

  it("replaces create-first when moving to another pool", () => {
    const olds = outputsOf(inputs({ name: "seed.iso" }));
    expect(diff(olds, inputs({ name: "seed.iso", pool: "other" }))).toMatchObject({
      replaces: ["pool"],
      deleteBeforeReplace: false,
    });
  });

  it("treats data unknown in preview as a replacement", () => {
    expect(diff(outputsOf(inputs()), inputs({ userData: UNKNOWN })).replaces).toEqual([
      "userData",
      "name",
    ]);
  });
});

describe("CloudInitDisk check", () => {
  it("accepts what the seed builder can build, and skips unknown data", () => {
    expect(cloudInitDiskHandlers.check!(inputs())).toEqual([]);
    expect(cloudInitDiskHandlers.check!(inputs({ userData: UNKNOWN }))).toEqual([]);
    expect(cloudInitDiskHandlers.check!(inputs({ userData: "#!/bin/sh\necho hi\n" }))).toEqual([]);
  });

  it("accepts what cloud-init accepts: leading blank lines and spaces, any case, MIME", () => {
    const accepted = [
      "\n  #cloud-config\nhostname: web\n",
      "#Cloud-Config\nhostname: web\n",
      'From: nobody\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n',
    ];
    for (const userData of accepted)
      expect(cloudInitDiskHandlers.check!(inputs({ userData }))).toEqual([]);
  });

  it("refuses user data cloud-init would ignore, without quoting it", () => {
    const [failure] = cloudInitDiskHandlers.check!(inputs({ userData: "hostname: web\n" }));
    expect(failure!.reason).toMatch(/^userData does not start with a line cloud-init acts on/);
    expect(failure!.reason).not.toContain("hostname");
  });

  it("names the meta-data the seed cannot be built from", () => {
    const [failure] = cloudInitDiskHandlers.check!(inputs({ metaData: "instance-id: ''\n" }));
    expect(failure!.reason).toMatch(
      /^cannot build the seed image: meta-data has an empty instance-id/,
    );
  });
});
