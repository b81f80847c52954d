/**
 * Reads the files of a flat ISO 9660 image, such as a NoCloud seed: the volume label and the
 * regular files of the root directory by the names POSIX readers see, from Rock Ridge NM entries
 * (as Linux mounts the image), else from the Joliet tree. Level 1 names (`USER_DAT.;1`) lose
 * characters and are never used. For images of iso9660.ts and of genisoimage/mkisofs -r/-J.
 *
 *   sector 16…   volume descriptors (ECMA-119 8): BP1 type (1 primary, 2 supplementary, 255 end),
 *                BP2-6 "CD001"; BP41-72 volume identifier; BP89-120 escape sequences (Joliet:
 *                "%/@", "%/C" or "%/E"); BP157-190 root directory record
 *   directory    records (9.1), never across a sector boundary (a 0 length byte: next sector):
 *                BP1 length, BP3-6 extent (LE), BP11-14 data length (LE), BP26 flags (bit 1:
 *                directory), BP33 identifier length, BP34… identifier, a pad byte when that length
 *                is even, then the System Use field up to the record's length
 *   System Use   SUSP entries (4.1): BP1-2 signature, BP3 length, BP4 version; "NM" (RRIP 4.1.4):
 *                BP5 flags (bit 0: continued in the next NM), BP6… name; "CE" (SUSP 5.1): more
 *                entries at BP5-8 block, BP13-16 offset, BP21-24 length (LE halves); "ST" ends them
 */
import { Iso9660Error, SECTOR_SIZE } from "./iso9660-fields";

export interface IsoContents {
  /** The primary volume descriptor's volume identifier, trailing spaces removed. */
  volumeId: string;
  /** The root directory's regular files by name. */
  files: Map<string, Buffer>;
}

const FIRST_DESCRIPTOR = 16;
const FLAG_DIRECTORY = 0x02;
const JOLIET_ESCAPES = ["%/@", "%/C", "%/E"];
/** Continuation areas followed per record at most: a loop in a damaged image ends. */
const MAX_CONTINUATIONS = 16;

interface DirectoryRecord {
  extent: number;
  size: number;
  directory: boolean;
  identifier: Buffer;
  systemUse: Buffer;
}

export function readIso9660(image: Buffer): IsoContents {
  let primary: Buffer | undefined;
  let joliet: Buffer | undefined;
  for (let sector = FIRST_DESCRIPTOR; ; sector += 1) {
    const descriptor = slice(image, sector * SECTOR_SIZE, SECTOR_SIZE, "a volume descriptor");
    if (descriptor.toString("latin1", 1, 6) !== "CD001") {
      throw new Iso9660Error(`no ISO 9660 volume descriptor at sector ${sector}`);
    }
    const type = descriptor[0];
    if (type === 255) break;
    if (type === 1) primary ??= descriptor;
    const escapes = descriptor.toString("latin1", 88, 91);
    if (type === 2 && JOLIET_ESCAPES.includes(escapes)) joliet ??= descriptor;
  }
  if (!primary) throw new Iso9660Error("the image has no primary volume descriptor");
  const volumeId = primary.toString("latin1", 40, 72).trimEnd();

  const rockRidge = rootFiles(image, primary).flatMap((record) => {
    const name = rockRidgeName(image, record.systemUse);
    return name === undefined ? [] : [{ name, record }];
  });
  const named = rockRidge.length
    ? rockRidge
    : joliet
      ? rootFiles(image, joliet).map((record) => ({ name: jolietName(record), record }))
      : undefined;
  if (!named) throw new Iso9660Error("the image records neither Rock Ridge nor Joliet names");
  const files = new Map<string, Buffer>();
  for (const { name, record } of named) {
    files.set(name, slice(image, record.extent * SECTOR_SIZE, record.size, `file ${name}`));
  }
  return { volumeId, files };
}

/** The regular files of the root directory a volume descriptor points to. */
function rootFiles(image: Buffer, descriptor: Buffer): DirectoryRecord[] {
  const root = parseRecord(descriptor, 156);
  const directory = slice(image, root.extent * SECTOR_SIZE, root.size, "the root directory");
  const records: DirectoryRecord[] = [];
  for (let at = 0; at < directory.length;) {
    if (directory[at] === 0) {
      at = (Math.floor(at / SECTOR_SIZE) + 1) * SECTOR_SIZE;
      continue;
    }
    const record = parseRecord(directory, at);
    at += directory[at]!;
    // "." and ".." have the one-byte identifiers 0 and 1.
    const dots = record.identifier.length === 1 && record.identifier[0]! <= 1;
    if (!dots && !record.directory) records.push(record);
  }
  return records;
}

function parseRecord(buffer: Buffer, at: number): DirectoryRecord {
  const length = buffer[at] ?? 0;
  const nameLength = buffer[at + 32] ?? 0;
  if (length < 34 || 33 + nameLength > length || at + length > buffer.length) {
    throw new Iso9660Error(`a directory record at byte ${at} is damaged`);
  }
  const nameEnd = at + 33 + nameLength;
  return {
    extent: buffer.readUInt32LE(at + 2),
    size: buffer.readUInt32LE(at + 10),
    directory: (buffer[at + 25]! & FLAG_DIRECTORY) !== 0,
    identifier: buffer.subarray(at + 33, nameEnd),
    systemUse: buffer.subarray(nameEnd + (nameLength % 2 === 0 ? 1 : 0), at + length),
  };
}

/** The name the NM entries record, following continuation areas; undefined without NM. */
function rockRidgeName(image: Buffer, systemUse: Buffer): string | undefined {
  const parts: Buffer[] = [];
  let area: Buffer | undefined = systemUse;
  for (let hops = 0; area && hops <= MAX_CONTINUATIONS; hops += 1) {
    let next: Buffer | undefined;
    for (let at = 0; at + 4 <= area.length;) {
      const signature = area.toString("latin1", at, at + 2);
      const length = area[at + 2]!;
      if (length < 4 || at + length > area.length || signature === "ST") break;
      if (signature === "NM" && length >= 5) parts.push(area.subarray(at + 5, at + length));
      if (signature === "CE" && length >= 28) {
        const offset = area.readUInt32LE(at + 4) * SECTOR_SIZE + area.readUInt32LE(at + 12);
        next = slice(image, offset, area.readUInt32LE(at + 20), "a continuation area");
      }
      at += length;
    }
    area = next;
  }
  return parts.length ? Buffer.concat(parts).toString("utf8") : undefined;
}

/** A Joliet identifier (UCS-2 big-endian) without its `;1` version. */
function jolietName(record: DirectoryRecord): string {
  const even = record.identifier.subarray(0, record.identifier.length & ~1);
  const name = Buffer.from(even).swap16().toString("utf16le");
  return name.replace(/;\d+$/, "");
}

function slice(image: Buffer, offset: number, length: number, what: string): Buffer {
  if (offset + length > image.length) {
    throw new Iso9660Error(`the image ends before ${what} (byte ${offset + length - 1})`);
  }
  return image.subarray(offset, offset + length);
}
