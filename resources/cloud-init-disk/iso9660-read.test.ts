import { SECTOR_SIZE } from "./iso9660-fields";
import { Iso9660Error, buildIso9660 } from "./iso9660";
import { readIso9660 } from "./iso9660-read";
import { buildNoCloudIso, readNoCloudIso } from "./nocloud";

const files = [
  { name: "user-data", data: Buffer.from("#cloud-config\nhostname: a\n") },
  { name: "meta-data", data: Buffer.from("instance-id: iid-1\n") },
  { name: "empty", data: Buffer.alloc(0) },
  // Longer than a sector, and with a name Rock Ridge records unchanged.
  { name: "network-config.yaml", data: Buffer.alloc(3 * SECTOR_SIZE + 5, "x") },
];

/** The image with every Rock Ridge NM entry's signature blotted out, as if it had none. */
function withoutRockRidgeNames(image: Buffer): Buffer {
  const copy = Buffer.from(image);
  for (let at = copy.indexOf("NM"); at >= 0; at = copy.indexOf("NM", at + 2)) copy.write("XX", at);
  return copy;
}

describe("readIso9660", () => {
  it("reads back every file and the label of an image iso9660.ts built", () => {
    const { volumeId, files: read } = readIso9660(buildIso9660({ volumeId: "cidata", files }));
    expect(volumeId).toBe("cidata");
    expect([...read.keys()].sort()).toEqual(files.map((file) => file.name).sort());
    for (const file of files) expect(read.get(file.name)!.equals(file.data)).toBe(true);
  });

  it("reads the names from the Joliet tree when there are no Rock Ridge names", () => {
    const image = withoutRockRidgeNames(buildIso9660({ volumeId: "cidata", files }));
    const read = readIso9660(image).files;
    expect(read.get("network-config.yaml")!.equals(files[3]!.data)).toBe(true);
    expect(read.size).toBe(files.length);
  });

  it("refuses an image with neither, since level 1 names lose characters", () => {
    const image = buildIso9660({ volumeId: "cidata", files, joliet: false });
    expect(() => readIso9660(withoutRockRidgeNames(image))).toThrow(
      "the image records neither Rock Ridge nor Joliet names",
    );
  });

  it("refuses what is not ISO 9660, and an image cut short, with an Iso9660Error", () => {
    expect(() => readIso9660(Buffer.alloc(40 * SECTOR_SIZE))).toThrow(
      new Iso9660Error("no ISO 9660 volume descriptor at sector 16"),
    );
    const image = buildIso9660({ volumeId: "cidata", files });
    expect(() => readIso9660(image.subarray(0, image.length - SECTOR_SIZE))).toThrow(
      /^the image ends before file user-data/,
    );
  });
});

describe("readNoCloudIso", () => {
  it("gives back the parts of a seed, the meta-data as recorded and the instance-id", () => {
    const seed = { userData: "#cloud-config\n", metaData: "local-hostname: a\n", vendorData: "" };
    const built = buildNoCloudIso(seed);
    expect(readNoCloudIso(built.image)).toEqual({
      userData: seed.userData,
      metaData: built.metaData,
      networkConfig: undefined,
      vendorData: "",
      instanceId: built.instanceId,
    });
  });

  it("gives cloud-init's default instance-id for meta-data without one", () => {
    const image = buildIso9660({
      volumeId: "CIDATA",
      files: [
        { name: "user-data", data: Buffer.from("#cloud-config\n") },
        { name: "meta-data", data: Buffer.from("local-hostname: a\n") },
      ],
    });
    expect(readNoCloudIso(image).instanceId).toBe("nocloud");
  });

  it("says why an image is not a seed", () => {
    const other = buildIso9660({ volumeId: "DEBIAN_12", files });
    expect(() => readNoCloudIso(other)).toThrow('its ISO 9660 label is "DEBIAN_12", not cidata');
    const noMeta = buildIso9660({ volumeId: "cidata", files: [files[0]!] });
    expect(() => readNoCloudIso(noMeta)).toThrow("it has no meta-data file");
    expect(() => readNoCloudIso(Buffer.alloc(100))).toThrow(/^it is not an ISO 9660 image/);
  });
});
