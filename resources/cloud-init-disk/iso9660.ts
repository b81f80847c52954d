/**
 * An in-memory ISO 9660 (ECMA-119, 4th edition) image builder for small flat volumes such as the
 * cloud-init NoCloud seed: one root directory holding files, with Rock Ridge (SUSP 1.10 + RRIP 1.09,
 * "RRIP_1991A") so that POSIX readers see the real names and modes, and Joliet (UCS-2 names in a
 * supplementary volume descriptor) for readers that prefer it. Same inputs, same bytes.
 *
 * Image layout, in 2048-byte logical sectors:
 *   0–15   system area, zeros (6.2.1)
 *   16     primary volume descriptor (8.4)
 *   17     Joliet supplementary volume descriptor (8.5), unless joliet: false
 *   next   volume descriptor set terminator (8.3)
 *   next   type L and type M path tables of the primary tree (9.4), one sector each; then Joliet's
 *   next   primary root directory (9.1, 6.8.1), then the Joliet root directory
 *   next   Rock Ridge continuation area holding the ER entry (SUSP 5.1, 5.5)
 *   next   file contents, each from the start of a sector, zero-padded to a whole sector
 */
import {
  Iso9660Error,
  SECTOR_SIZE,
  checkTimestamp,
  recordingDate,
  sectorsFor,
  writeAsciiField,
  writeBoth16,
  writeBoth32,
  writeUcs2Field,
  writeVolumeDate,
} from "./iso9660-fields";
import {
  checkFileName,
  checkVolumeId,
  compareJoliet,
  compareLevelOne,
  jolietIdentifier,
  levelOneIdentifiers,
} from "./iso9660-names";
import {
  continuationArea,
  fileSystemUse,
  rockRidgeExtensionsReference,
  rootSystemUse,
} from "./iso9660-rock-ridge";

export { Iso9660Error } from "./iso9660-fields";

export interface IsoFile {
  /** The name readers see (Rock Ridge and Joliet): 1–64 of A–Z a–z 0–9 . _ - */
  name: string;
  data: Buffer;
}

export interface Iso9660Options {
  /** The volume label, e.g. `cidata` (recorded as given, like genisoimage -V). */
  volumeId: string;
  /** Files of the root directory; their order does not matter. */
  files: readonly IsoFile[];
  /** Every date the image records. Default 1970-01-01T00:00:00Z, so output depends on content only. */
  timestamp?: Date;
  /** Add the Joliet tree (default true). */
  joliet?: boolean;
}

/** The date an image records when the caller gives none. */
export const DEFAULT_TIMESTAMP = new Date(0);

/** Recorded as the application identifier (8.4.25). */
const APPLICATION_ID = "VIRTWIRE";
/** Both volume descriptor kinds' standard identifier (8.1.2). */
const STANDARD_ID = "CD001";
const enum DescriptorType {
  Primary = 1,
  Supplementary = 2,
  Terminator = 255,
}
/** 8.5.6: escape sequences of a Joliet SVD, "%/E" = UCS-2 level 3. */
const JOLIET_ESCAPES = "%/E";
/** 9.1.6: file flags bit 1, "Directory". */
const FLAG_DIRECTORY = 0x02;
/** 9.4: a path table holding only the root: 8 bytes + 1-byte identifier + 1 pad byte. */
const PATH_TABLE_SIZE = 10;
/** The first sector after the system area (6.2.1). */
const FIRST_DESCRIPTOR = 16;

/** One directory record before encoding (9.1). */
interface RecordSpec {
  identifier: Buffer;
  extent: number;
  size: number;
  directory: boolean;
  systemUse?: Buffer;
}

/** Where things go, in sectors; sizes in bytes. */
interface Layout {
  primaryRoot: number;
  primaryRootSize: number;
  jolietRoot: number;
  jolietRootSize: number;
  pathTables: { primaryL: number; primaryM: number; jolietL: number; jolietM: number };
  continuation: number;
  fileExtents: number[];
  totalSectors: number;
}

interface PreparedFile extends IsoFile {
  levelOne: string;
}

/** Builds the image. Throws Iso9660Error for names, labels, sizes or dates it cannot record. */
export function buildIso9660(options: Iso9660Options): Buffer {
  const timestamp = options.timestamp ?? DEFAULT_TIMESTAMP;
  const joliet = options.joliet ?? true;
  checkVolumeId(options.volumeId);
  checkTimestamp(timestamp);
  const files = prepareFiles(options.files);

  // Record lengths never depend on locations, so a dry run with zeros sizes the directories.
  const dryRun = emptyLayout(files.length);
  const layout = allocate(
    files,
    directoryBytes(primaryRecords(files, dryRun, timestamp)).length,
    joliet ? directoryBytes(jolietRecords(files, dryRun, timestamp)).length : 0,
  );

  const image = Buffer.alloc(layout.totalSectors * SECTOR_SIZE);
  let sector = FIRST_DESCRIPTOR;
  writeDescriptor(image, sector++, DescriptorType.Primary, options.volumeId, layout, timestamp);
  if (joliet) {
    writeDescriptor(
      image,
      sector++,
      DescriptorType.Supplementary,
      options.volumeId,
      layout,
      timestamp,
    );
  }
  writeTerminator(image, sector);

  const { pathTables } = layout;
  pathTable(layout.primaryRoot, false).copy(image, pathTables.primaryL * SECTOR_SIZE);
  pathTable(layout.primaryRoot, true).copy(image, pathTables.primaryM * SECTOR_SIZE);
  directoryBytes(primaryRecords(files, layout, timestamp)).copy(
    image,
    layout.primaryRoot * SECTOR_SIZE,
  );
  if (joliet) {
    pathTable(layout.jolietRoot, false).copy(image, pathTables.jolietL * SECTOR_SIZE);
    pathTable(layout.jolietRoot, true).copy(image, pathTables.jolietM * SECTOR_SIZE);
    directoryBytes(jolietRecords(files, layout, timestamp)).copy(
      image,
      layout.jolietRoot * SECTOR_SIZE,
    );
  }
  rockRidgeExtensionsReference().copy(image, layout.continuation * SECTOR_SIZE);
  files.forEach((file, index) =>
    file.data.copy(image, (layout.fileExtents[index] ?? 0) * SECTOR_SIZE),
  );
  return image;
}

function prepareFiles(files: readonly IsoFile[]): PreparedFile[] {
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  sorted.forEach((file, index) => {
    checkFileName(file.name);
    if (index > 0 && sorted[index - 1]?.name === file.name) {
      throw new Iso9660Error(`file name "${file.name}" is given twice`);
    }
    // 9.1.4: data length is a 32-bit number; one extent per file keeps us at level 1.
    if (file.data.length > 0xffffffff) {
      throw new Iso9660Error(`file "${file.name}" is larger than 4 GiB - 1`);
    }
  });
  const identifiers = levelOneIdentifiers(sorted.map((file) => file.name));
  return sorted.map((file, index) => ({ ...file, levelOne: identifiers[index] ?? "" }));
}

function emptyLayout(fileCount: number): Layout {
  return {
    primaryRoot: 0,
    primaryRootSize: 0,
    jolietRoot: 0,
    jolietRootSize: 0,
    pathTables: { primaryL: 0, primaryM: 0, jolietL: 0, jolietM: 0 },
    continuation: 0,
    fileExtents: new Array<number>(fileCount).fill(0),
    totalSectors: 0,
  };
}

function allocate(files: PreparedFile[], primaryRootSize: number, jolietRootSize: number): Layout {
  const joliet = jolietRootSize > 0;
  // Descriptors: primary, Joliet, terminator.
  let next = FIRST_DESCRIPTOR + (joliet ? 3 : 2);
  const take = (sectors: number) => {
    const start = next;
    next += sectors;
    return start;
  };
  const pathTables = {
    primaryL: take(1),
    primaryM: take(1),
    jolietL: joliet ? take(1) : 0,
    jolietM: joliet ? take(1) : 0,
  };
  const primaryRoot = take(sectorsFor(primaryRootSize));
  const jolietRoot = joliet ? take(sectorsFor(jolietRootSize)) : 0;
  const continuation = take(1);
  // An empty file records extent 0 (nothing to read); others get their own sectors.
  const fileExtents = files.map((file) =>
    file.data.length ? take(sectorsFor(file.data.length)) : 0,
  );
  return {
    primaryRoot,
    primaryRootSize,
    jolietRoot,
    jolietRootSize,
    pathTables,
    continuation,
    fileExtents,
    totalSectors: next,
  };
}

/** The primary root: ".", "..", then the files in 9.3 order, each with its Rock Ridge entries. */
function primaryRecords(files: PreparedFile[], layout: Layout, timestamp: Date): Buffer[] {
  const erLength = rockRidgeExtensionsReference().length;
  const continuation = continuationArea(layout.continuation, 0, erLength);
  const root = { extent: layout.primaryRoot, size: layout.primaryRootSize, directory: true };
  const dot = {
    ...root,
    identifier: Buffer.from([0]),
    systemUse: rootSystemUse(timestamp, continuation),
  };
  const dotDot = { ...root, identifier: Buffer.from([1]), systemUse: rootSystemUse(timestamp) };
  const entries = files
    .map((file, index) => ({ file, extent: layout.fileExtents[index] ?? 0 }))
    .sort((a, b) => compareLevelOne(a.file.levelOne, b.file.levelOne))
    .map(({ file, extent }) => ({
      identifier: Buffer.from(file.levelOne, "latin1"),
      extent,
      size: file.data.length,
      directory: false,
      systemUse: fileSystemUse(file.name, timestamp),
    }));
  return [dot, dotDot, ...entries].map((spec) => directoryRecord(spec, timestamp));
}

/** The Joliet root: ".", "..", then the files by UCS-2 name; no System Use entries. */
function jolietRecords(files: PreparedFile[], layout: Layout, timestamp: Date): Buffer[] {
  const root = { extent: layout.jolietRoot, size: layout.jolietRootSize, directory: true };
  const entries = files
    .map((file, index) => ({ file, extent: layout.fileExtents[index] ?? 0 }))
    .sort((a, b) => compareJoliet(a.file.name, b.file.name))
    .map(({ file, extent }) => ({
      identifier: jolietIdentifier(file.name),
      extent,
      size: file.data.length,
      directory: false,
    }));
  const specs = [
    { ...root, identifier: Buffer.from([0]) },
    { ...root, identifier: Buffer.from([1]) },
    ...entries,
  ];
  return specs.map((spec) => directoryRecord(spec, timestamp));
}

/**
 * 9.1, a directory record:
 *   BP1      LEN_DR, length of the record (even)       BP2      extended attribute record length (0)
 *   BP3-10   location of extent (both-byte orders)     BP11-18  data length (both-byte orders)
 *   BP19-25  recording date and time (9.1.5)           BP26     file flags (bit 1: directory)
 *   BP27     file unit size (0)                        BP28     interleave gap size (0)
 *   BP29-32  volume sequence number (1, both-byte orders)
 *   BP33     LEN_FI                                    BP34..   file identifier
 *   then a padding byte if LEN_FI is even, then the System Use field (9.1.13)
 */
function directoryRecord(spec: RecordSpec, timestamp: Date): Buffer {
  const systemUse = spec.systemUse ?? Buffer.alloc(0);
  const identifierEnd = 33 + spec.identifier.length + (spec.identifier.length % 2 === 0 ? 1 : 0);
  const length = identifierEnd + systemUse.length + ((identifierEnd + systemUse.length) % 2);
  if (length > 255) throw new Iso9660Error("a directory record is longer than 255 bytes");
  const record = Buffer.alloc(length);
  record[0] = length;
  writeBoth32(record, 2, spec.extent);
  writeBoth32(record, 10, spec.size);
  recordingDate(timestamp).copy(record, 18);
  record[25] = spec.directory ? FLAG_DIRECTORY : 0;
  writeBoth16(record, 28, 1);
  record[32] = spec.identifier.length;
  spec.identifier.copy(record, 33);
  systemUse.copy(record, identifierEnd);
  return record;
}

/**
 * 6.8.1.1: records are packed in order but none crosses a sector boundary; the rest of a sector is
 * zeros. The directory's data length is a whole number of sectors.
 */
function directoryBytes(records: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  let used = 0;
  for (const record of records) {
    const inSector = used % SECTOR_SIZE;
    if (inSector + record.length > SECTOR_SIZE) {
      parts.push(Buffer.alloc(SECTOR_SIZE - inSector));
      used += SECTOR_SIZE - inSector;
    }
    parts.push(record);
    used += record.length;
  }
  parts.push(Buffer.alloc(sectorsFor(used) * SECTOR_SIZE - used));
  return Buffer.concat(parts);
}

/**
 * 9.4, a path table with the root directory only (10 bytes), little-endian for type L and
 * big-endian for type M:
 *   BP1 LEN_DI (1)   BP2 extended attribute record length (0)   BP3-6 location of extent
 *   BP7-8 parent directory number (1: the root is its own parent)   BP9 identifier 00   BP10 pad
 */
function pathTable(rootExtent: number, bigEndian: boolean): Buffer {
  const table = Buffer.alloc(PATH_TABLE_SIZE);
  table[0] = 1;
  if (bigEndian) {
    table.writeUInt32BE(rootExtent, 2);
    table.writeUInt16BE(1, 6);
  } else {
    table.writeUInt32LE(rootExtent, 2);
    table.writeUInt16LE(1, 6);
  }
  return table;
}

/**
 * 8.4 (primary) and 8.5 (supplementary; Joliet), byte offsets from 0:
 *   0 type   1-5 "CD001"   6 version (1)   7 volume flags (0)   8-39 system identifier
 *   40-71 volume identifier   80-87 volume space size   88-119 escape sequences (Joliet: "%/E")
 *   120-123 volume set size   124-127 volume sequence number   128-131 logical block size
 *   132-139 path table size   140-143 type L path table   148-151 type M path table
 *   156-189 root directory record   190-317 volume set   318-445 publisher   446-573 data preparer
 *   574-701 application   702-738 copyright file   739-775 abstract file   776-812 bibliographic file
 *   813-829 creation   830-846 modification   847-863 expiration   864-880 effective date
 *   881 file structure version (1)
 * Joliet records the identifiers in UCS-2 big-endian and its own path tables and root directory.
 */
function writeDescriptor(
  image: Buffer,
  sector: number,
  type: DescriptorType,
  volumeId: string,
  layout: Layout,
  timestamp: Date,
): void {
  const base = sector * SECTOR_SIZE;
  const descriptor = image.subarray(base, base + SECTOR_SIZE);
  const joliet = type === DescriptorType.Supplementary;
  const text = joliet ? writeUcs2Field : writeAsciiField;
  descriptor[0] = type;
  descriptor.write(STANDARD_ID, 1, "latin1");
  descriptor[6] = 1;
  text(descriptor, 8, 32, "");
  text(descriptor, 40, 32, volumeId);
  writeBoth32(descriptor, 80, layout.totalSectors);
  if (joliet) descriptor.write(JOLIET_ESCAPES, 88, "latin1");
  writeBoth16(descriptor, 120, 1);
  writeBoth16(descriptor, 124, 1);
  writeBoth16(descriptor, 128, SECTOR_SIZE);
  writeBoth32(descriptor, 132, PATH_TABLE_SIZE);
  const tables = layout.pathTables;
  descriptor.writeUInt32LE(joliet ? tables.jolietL : tables.primaryL, 140);
  descriptor.writeUInt32BE(joliet ? tables.jolietM : tables.primaryM, 148);
  const root = joliet
    ? { extent: layout.jolietRoot, size: layout.jolietRootSize }
    : { extent: layout.primaryRoot, size: layout.primaryRootSize };
  const rootSpec = { ...root, identifier: Buffer.from([0]), directory: true };
  directoryRecord(rootSpec, timestamp).copy(descriptor, 156);
  const identifiers: [number, number, string][] = [
    [190, 128, ""],
    [318, 128, ""],
    [446, 128, ""],
    [574, 128, APPLICATION_ID],
    [702, 37, ""],
    [739, 37, ""],
    [776, 37, ""],
  ];
  for (const [offset, length, value] of identifiers) text(descriptor, offset, length, value);
  writeVolumeDate(descriptor, 813, timestamp);
  writeVolumeDate(descriptor, 830, timestamp);
  writeVolumeDate(descriptor, 847);
  writeVolumeDate(descriptor, 864);
  descriptor[881] = 1;
}

/** 8.3, the volume descriptor set terminator: type 255, "CD001", version 1, zeros. */
function writeTerminator(image: Buffer, sector: number): void {
  const base = sector * SECTOR_SIZE;
  image[base] = DescriptorType.Terminator;
  image.write(STANDARD_ID, base + 1, "latin1");
  image[base + 6] = 1;
}
