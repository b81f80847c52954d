import { buildIso9660, Iso9660Error, type IsoFile } from "./iso9660";
import { compareLevelOne, levelOneIdentifiers } from "./iso9660-names";

// --- a small, strict reader: every both-byte-order field must agree in its two halves ------------

const SECTOR = 2048;

function both32(buffer: Buffer, offset: number): number {
  const little = buffer.readUInt32LE(offset);
  expect(buffer.readUInt32BE(offset + 4)).toBe(little);
  return little;
}

function both16(buffer: Buffer, offset: number): number {
  const little = buffer.readUInt16LE(offset);
  expect(buffer.readUInt16BE(offset + 2)).toBe(little);
  return little;
}

interface Entry {
  signature: string;
  version: number;
  data: Buffer;
}

interface DirectoryRecord {
  identifier: Buffer;
  extent: number;
  size: number;
  flags: number;
  date: number[];
  systemUse: Entry[];
}

/** SUSP 4.1 entries of a System Use field, following CE into its continuation area. */
function suspEntries(image: Buffer, field: Buffer): Entry[] {
  const entries: Entry[] = [];
  let at = 0;
  while (at + 4 <= field.length) {
    const length = field[at + 2] ?? 0;
    if (length < 4) break;
    const entry = {
      signature: field.toString("latin1", at, at + 2),
      version: field[at + 3] ?? 0,
      data: field.subarray(at + 4, at + length),
    };
    entries.push(entry);
    at += length;
    if (entry.signature === "CE") {
      const block = both32(entry.data, 0);
      const offset = both32(entry.data, 8);
      const size = both32(entry.data, 16);
      const area = image.subarray(block * SECTOR + offset, block * SECTOR + offset + size);
      entries.push(...suspEntries(image, area));
    }
  }
  return entries;
}

/** 9.1: one directory record at `at` in `source` (the image or a volume descriptor). */
function parseRecord(image: Buffer, source: Buffer, at: number): DirectoryRecord {
  const length = source[at] ?? 0;
  const record = source.subarray(at, at + length);
  expect(length % 2).toBe(0);
  expect(both16(record, 28)).toBe(1);
  const idLength = record[32] ?? 0;
  const systemUseStart = 33 + idLength + (idLength % 2 === 0 ? 1 : 0);
  return {
    identifier: record.subarray(33, 33 + idLength),
    extent: both32(record, 2),
    size: both32(record, 10),
    flags: record[25] ?? 0,
    date: [...record.subarray(18, 25)],
    systemUse: suspEntries(image, record.subarray(systemUseStart)),
  };
}

/** 6.8.1.1: records never cross a sector; a zero length byte means "next sector". */
function readDirectory(image: Buffer, extent: number, size: number): DirectoryRecord[] {
  const records: DirectoryRecord[] = [];
  let at = extent * SECTOR;
  const end = at + size;
  while (at < end) {
    const length = image[at] ?? 0;
    if (length === 0) {
      at = (Math.floor(at / SECTOR) + 1) * SECTOR;
      continue;
    }
    expect(Math.floor(at / SECTOR)).toBe(Math.floor((at + length - 1) / SECTOR));
    records.push(parseRecord(image, image, at));
    at += length;
  }
  return records;
}

interface Descriptor {
  type: number;
  raw: Buffer;
  root: DirectoryRecord;
}

function descriptors(image: Buffer): Descriptor[] {
  const found: Descriptor[] = [];
  for (let sector = 16; ; sector += 1) {
    const raw = image.subarray(sector * SECTOR, (sector + 1) * SECTOR);
    expect(raw.toString("latin1", 1, 6)).toBe("CD001");
    expect(raw[6]).toBe(1);
    if (raw[0] === 255) return found;
    expect(raw[156]).toBe(34); // 9.1: the root record in a descriptor has no System Use field
    found.push({ type: raw[0] ?? 0, raw, root: parseRecord(image, raw, 156) });
  }
}

const nameOf = (record: DirectoryRecord) =>
  record.systemUse.find((entry) => entry.signature === "NM")?.data.toString("utf8", 1);
const entry = (record: DirectoryRecord, signature: string) =>
  record.systemUse.find((candidate) => candidate.signature === signature);
const fileData = (image: Buffer, record: DirectoryRecord) =>
  image.subarray(record.extent * SECTOR, record.extent * SECTOR + record.size);

// --- fixtures -------------------------------------------------------------------------------------

const seedFiles: IsoFile[] = [
  { name: "user-data", data: Buffer.from("#cloud-config\nhostname: vw\n") },
  { name: "meta-data", data: Buffer.from("instance-id: iid-1\n") },
  { name: "network-config", data: Buffer.from("version: 2\n") },
];
const image = buildIso9660({ volumeId: "cidata", files: seedFiles });
const [primary, joliet] = descriptors(image);

describe("buildIso9660", () => {
  it("starts with a 32 KiB system area of zeros and is a whole number of sectors", () => {
    expect(image.subarray(0, 16 * SECTOR).every((byte) => byte === 0)).toBe(true);
    expect(image.length % SECTOR).toBe(0);
  });

  it("records a primary, a Joliet supplementary and a terminator volume descriptor", () => {
    expect(descriptors(image).map((descriptor) => descriptor.type)).toEqual([1, 2]);
    expect(image[18 * SECTOR]).toBe(255);
  });

  it("fills the primary volume descriptor's fields (ECMA-119 8.4)", () => {
    const raw = primary!.raw;
    expect(raw.toString("latin1", 40, 72)).toBe("cidata".padEnd(32, " "));
    expect(both32(raw, 80) * SECTOR).toBe(image.length);
    expect([both16(raw, 120), both16(raw, 124), both16(raw, 128)]).toEqual([1, 1, SECTOR]);
    expect(both32(raw, 132)).toBe(10);
    expect(raw.toString("latin1", 574, 582)).toBe("VIRTWIRE");
    expect(raw.toString("latin1", 813, 829)).toBe("1970010100000000");
    expect(raw.toString("latin1", 847, 863)).toBe("0".repeat(16));
    expect(raw[881]).toBe(1);
  });

  it("writes type L and type M path tables naming the root as its own parent (9.4)", () => {
    for (const descriptor of [primary!, joliet!]) {
      const little = image.subarray(descriptor.raw.readUInt32LE(140) * SECTOR);
      const big = image.subarray(descriptor.raw.readUInt32BE(148) * SECTOR);
      expect([little[0], little.readUInt32LE(2), little.readUInt16LE(6), little[8]]).toEqual([
        1,
        descriptor.root.extent,
        1,
        0,
      ]);
      expect([big[0], big.readUInt32BE(2), big.readUInt16BE(6), big[8]]).toEqual([
        1,
        descriptor.root.extent,
        1,
        0,
      ]);
    }
  });

  it("opens the root directory with . and .. pointing at the root itself", () => {
    const [dot, dotDot] = readDirectory(image, primary!.root.extent, primary!.root.size);
    for (const [record, id] of [
      [dot!, 0],
      [dotDot!, 1],
    ] as const) {
      expect([...record.identifier]).toEqual([id]);
      expect([record.extent, record.size, record.flags]).toEqual([primary!.root.extent, SECTOR, 2]);
    }
  });

  it("names files ECMA-119 level 1 in the primary tree, in 9.3 order", () => {
    const records = readDirectory(image, primary!.root.extent, primary!.root.size).slice(2);
    expect(records.map((record) => record.identifier.toString("latin1"))).toEqual([
      "META_DAT.;1",
      "NETWORK_.;1",
      "USER_DAT.;1",
    ]);
  });

  it("announces Rock Ridge: SP first in the root's '.', ER RRIP_1991A through CE", () => {
    const [dot] = readDirectory(image, primary!.root.extent, primary!.root.size);
    expect(dot!.systemUse[0]).toMatchObject({ signature: "SP", version: 1 });
    expect([...dot!.systemUse[0]!.data]).toEqual([0xbe, 0xef, 0]);
    const er = entry(dot!, "ER")!;
    const [idLength, descLength, srcLength, extensionVersion] = er.data;
    expect(er.data.toString("latin1", 4, 4 + idLength!)).toBe("RRIP_1991A");
    expect([descLength, srcLength, extensionVersion]).toEqual([84, 135, 1]);
    expect(entry(dot!, "PX")!.data.readUInt32LE(0)).toBe(0o40555);
  });

  it("gives every file its real name (NM), mode r--r--r-- (PX) and an RR entry", () => {
    const records = readDirectory(image, primary!.root.extent, primary!.root.size).slice(2);
    expect(records.map(nameOf)).toEqual(["meta-data", "network-config", "user-data"]);
    for (const record of records) {
      expect(entry(record, "RR")!.data[0]).toBe(0x89); // PX | NM | TF
      const px = entry(record, "PX")!.data;
      expect([both32(px, 0), both32(px, 8), both32(px, 16), both32(px, 24)]).toEqual([
        0o100444, 1, 0, 0,
      ]);
      expect([...entry(record, "TF")!.data.subarray(0, 8)]).toEqual([0x0e, 70, 1, 1, 0, 0, 0, 0]);
      expect(entry(record, "SP")).toBeUndefined();
    }
  });

  it("stores each file's bytes at its extent, sector-aligned and zero-padded", () => {
    const records = readDirectory(image, primary!.root.extent, primary!.root.size).slice(2);
    for (const record of records) {
      const file = seedFiles.find((candidate) => candidate.name === nameOf(record))!;
      expect(fileData(image, record)).toEqual(file.data);
      const padding = image.subarray(
        record.extent * SECTOR + record.size,
        (record.extent + 1) * SECTOR,
      );
      expect(padding.every((byte) => byte === 0)).toBe(true);
    }
  });

  it("mirrors the files in a Joliet tree with UCS-2 names and the same extents", () => {
    const raw = joliet!.raw;
    expect(raw.toString("latin1", 88, 91)).toBe("%/E");
    expect(Buffer.from(raw.subarray(40, 72)).swap16().toString("utf16le").trimEnd()).toBe("cidata");
    const records = readDirectory(image, joliet!.root.extent, joliet!.root.size);
    expect(records.slice(0, 2).map((record) => record.extent)).toEqual([
      joliet!.root.extent,
      joliet!.root.extent,
    ]);
    const files = records.slice(2);
    const names = files.map((record) =>
      Buffer.from(record.identifier).swap16().toString("utf16le"),
    );
    expect(names).toEqual(["meta-data;1", "network-config;1", "user-data;1"]);
    const primaryFiles = readDirectory(image, primary!.root.extent, primary!.root.size).slice(2);
    expect(files.map((record) => record.extent)).toEqual(
      primaryFiles.map((record) => record.extent),
    );
  });

  it("leaves Joliet out when asked, with the terminator right after the primary descriptor", () => {
    const plain = buildIso9660({ volumeId: "cidata", files: seedFiles, joliet: false });
    expect(descriptors(plain).map((descriptor) => descriptor.type)).toEqual([1]);
    expect(plain[17 * SECTOR]).toBe(255);
  });

  it("gives the same bytes for the same inputs in any order", () => {
    const reversed = buildIso9660({ volumeId: "cidata", files: [...seedFiles].reverse() });
    expect(reversed.equals(image)).toBe(true);
  });

  it("records the caller's timestamp in the descriptors, records and TF entries", () => {
    const timestamp = new Date("2024-02-29T13:14:15.160Z");
    const dated = buildIso9660({ volumeId: "cidata", files: seedFiles, timestamp });
    const [descriptor] = descriptors(dated);
    expect(descriptor!.raw.toString("latin1", 830, 846)).toBe("2024022913141516");
    const [, , file] = readDirectory(dated, descriptor!.root.extent, descriptor!.root.size);
    expect(file!.date).toEqual([124, 2, 29, 13, 14, 15, 0]);
    expect([...entry(file!, "TF")!.data.subarray(1, 8)]).toEqual([124, 2, 29, 13, 14, 15, 0]);
  });

  it("records an empty file with length 0 at extent 0", () => {
    const empty = buildIso9660({
      volumeId: "cidata",
      files: [{ name: "vendor-data", data: Buffer.alloc(0) }],
    });
    const [descriptor] = descriptors(empty);
    const [, , file] = readDirectory(empty, descriptor!.root.extent, descriptor!.root.size);
    expect([nameOf(file!), file!.extent, file!.size]).toEqual(["vendor-data", 0, 0]);
  });

  it("spreads a large directory over sectors without splitting a record", () => {
    const files = Array.from({ length: 60 }, (_, index) => ({
      name: `file-with-a-long-name-${String(index).padStart(3, "0")}.yaml`,
      data: Buffer.from(`content ${index}\n`),
    }));
    const big = buildIso9660({ volumeId: "CIDATA", files });
    const [descriptor] = descriptors(big);
    expect(descriptor!.root.size).toBeGreaterThan(SECTOR);
    expect(descriptor!.root.size % SECTOR).toBe(0);
    const records = readDirectory(big, descriptor!.root.extent, descriptor!.root.size).slice(2);
    expect(records.map(nameOf).sort()).toEqual(files.map((file) => file.name));
    const identifiers = records.map((record) => record.identifier.toString("latin1"));
    expect(new Set(identifiers).size).toBe(files.length);
    expect([...identifiers].sort(compareLevelOne)).toEqual(identifiers);
    for (const record of records) {
      expect(fileData(big, record).toString()).toBe(
        `content ${Number(nameOf(record)!.slice(22, 25))}\n`,
      );
    }
  });

  it.each([
    ["an empty name", ""],
    ["a slash", "a/b"],
    ["a space", "user data"],
    ["a non-ASCII letter", "méta"],
    ["'..'", ".."],
    ["65 characters", "x".repeat(65)],
  ])("rejects a file name with %s", (_, name) => {
    expect(() =>
      buildIso9660({ volumeId: "cidata", files: [{ name, data: Buffer.alloc(1) }] }),
    ).toThrow(Iso9660Error);
  });

  it("rejects a name given twice, a bad label and an unrecordable date", () => {
    const twice = [seedFiles[0]!, seedFiles[0]!];
    expect(() => buildIso9660({ volumeId: "cidata", files: twice })).toThrow(/given twice/);
    expect(() => buildIso9660({ volumeId: "ci-data", files: [] })).toThrow(/volume identifier/);
    const timestamp = new Date("1899-12-31T00:00:00Z");
    expect(() => buildIso9660({ volumeId: "cidata", files: [], timestamp })).toThrow(/1900/);
  });
});

describe("levelOneIdentifiers", () => {
  it("maps names to 8.3 d-characters as genisoimage does", () => {
    expect(
      levelOneIdentifiers(["user-data", "meta-data", "vendor-data", "a.tar.gz", ".hidden"]),
    ).toEqual(["USER_DAT.;1", "META_DAT.;1", "VENDOR_D.;1", "A_TAR.GZ;1", "_HIDDEN.;1"]);
  });

  it("numbers names that would collide", () => {
    expect(levelOneIdentifiers(["user-data", "user-data-2", "user_data"])).toEqual([
      "USER_DAT.;1",
      "USER_DA1.;1",
      "USER_DA2.;1",
    ]);
  });
});
