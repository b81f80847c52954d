/**
 * System Use entries of SUSP 1.10 (System Use Sharing Protocol, IEEE P1281) and RRIP 1.09
 * (Rock Ridge Interchange Protocol, IEEE P1282, extension identifier "RRIP_1991A"), as written into
 * the System Use field of directory records (ECMA-119 9.1.13).
 *
 * Every entry starts with the same 4 bytes (SUSP 4.1):
 *   BP1-2  signature word, two ASCII letters
 *   BP3    LEN, the length of the whole entry in bytes
 *   BP4    entry version
 * followed by entry-specific data. Linux's isofs driver (fs/isofs/rock.c) reads them; it switches to
 * Rock Ridge names only when it finds an ER entry while reading the root directory's "." record,
 * otherwise it prefers Joliet when the image has a Joliet volume descriptor.
 */
import { both32, recordingDate } from "./iso9660-fields";

/** POSIX file mode bits for PX (RRIP 4.1.1), as in <sys/stat.h>. */
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;

function entry(signature: string, version: number, data: Buffer): Buffer {
  const header = Buffer.from([signature.charCodeAt(0), signature.charCodeAt(1), 4 + data.length]);
  return Buffer.concat([header, Buffer.from([version]), data]);
}

/**
 * SUSP 5.3 "SP", the SUSP indicator, first entry of the root directory's "." record (7 bytes):
 *   BP5-6  check bytes BE EF
 *   BP7    LEN_SKP, bytes to skip at the start of every System Use field (0)
 */
export function suspIndicator(): Buffer {
  return entry("SP", 1, Buffer.from([0xbe, 0xef, 0]));
}

/**
 * SUSP 5.1 "CE", continuation area (28 bytes): more System Use entries live elsewhere.
 *   BP5-12   block location of the continuation area (both-byte orders)
 *   BP13-20  offset of the area within that block (both-byte orders)
 *   BP21-28  length of the area (both-byte orders)
 */
export function continuationArea(block: number, offset: number, length: number): Buffer {
  return entry("CE", 1, Buffer.concat([both32(block), both32(offset), both32(length)]));
}

/** RRIP 1.09 section 5: the identifier, description and source an ER entry records for it. */
const RRIP_1991A = {
  identifier: "RRIP_1991A",
  descriptor:
    "THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS",
  source:
    "PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN " +
    "PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.",
};

/**
 * SUSP 5.5 "ER", extensions reference, naming the extension in use (237 bytes for RRIP_1991A; too
 * long for a directory record next to the other entries, so it goes into a continuation area):
 *   BP5    LEN_ID      BP6  LEN_DES     BP7  LEN_SRC     BP8  EXT_VER (1)
 *   BP9..  identifier, then descriptor, then source
 */
export function rockRidgeExtensionsReference(): Buffer {
  const { identifier, descriptor, source } = RRIP_1991A;
  const lengths = Buffer.from([identifier.length, descriptor.length, source.length, 1]);
  return entry("ER", 1, Buffer.concat([lengths, Buffer.from(identifier + descriptor + source)]));
}

/** Flags of the RR entry: which RRIP entries this record carries. */
export const RrFlags = { PX: 0x01, PN: 0x02, SL: 0x04, NM: 0x08, TF: 0x80 } as const;

/**
 * RRIP 1.09 4.1 "RR", Rock Ridge extensions in use for this record (5 bytes):
 *   BP5  flags: bit 0 PX, 1 PN, 2 SL, 3 NM, 4 CL, 5 PL, 6 RE, 7 TF
 * Linux stops reading a record's Rock Ridge entries when RR lacks the flag it is looking for.
 */
export function rockRidgeFlags(flags: number): Buffer {
  return entry("RR", 1, Buffer.from([flags]));
}

/**
 * RRIP 1.09 4.1.1 "PX", POSIX file attributes (36 bytes):
 *   BP5-12 st_mode   BP13-20 st_nlink   BP21-28 st_uid   BP29-36 st_gid   (each both-byte orders)
 * (RRIP 1.12 adds an inode number; 1991A readers expect the 36-byte form.)
 */
export function posixAttributes(mode: number, links: number): Buffer {
  return entry("PX", 1, Buffer.concat([both32(mode), both32(links), both32(0), both32(0)]));
}

/** TF flags: which timestamps follow, in this order; bit 7 (LONG_FORM) unset = 7-byte dates. */
const TF_MODIFY = 0x02;
const TF_ACCESS = 0x04;
const TF_ATTRIBUTES = 0x08;

/**
 * RRIP 1.09 4.1.6 "TF", time stamps (26 bytes): BP5 flags, then one 7-byte ECMA-119 9.1.5 date per
 * flag set — here modification, access and attribute change, all the same instant.
 */
export function timestamps(timestamp: Date): Buffer {
  const date = recordingDate(timestamp);
  const flags = Buffer.from([TF_MODIFY | TF_ACCESS | TF_ATTRIBUTES]);
  return entry("TF", 1, Buffer.concat([flags, date, date, date]));
}

/**
 * RRIP 1.09 4.1.4 "NM", alternate name (5 + name bytes):
 *   BP5    flags: bit 0 CONTINUE, 1 CURRENT, 2 PARENT (0 here: the whole name, in this entry)
 *   BP6..  the name, bytes as the POSIX name has them
 */
export function alternateName(name: string): Buffer {
  return entry("NM", 1, Buffer.concat([Buffer.from([0]), Buffer.from(name, "utf8")]));
}

/** The System Use field of a file: RR, PX (r--r--r--), TF and NM. */
export function fileSystemUse(name: string, timestamp: Date): Buffer {
  return Buffer.concat([
    rockRidgeFlags(RrFlags.PX | RrFlags.TF | RrFlags.NM),
    posixAttributes(S_IFREG | 0o444, 1),
    timestamps(timestamp),
    alternateName(name),
  ]);
}

/**
 * The System Use field of the root directory's "." (with `continuation`, which must lead to the ER
 * entry) or ".." record: SP first (SUSP 5.3 requires it), RR, PX (r-xr-xr-x), TF.
 */
export function rootSystemUse(timestamp: Date, continuation?: Buffer): Buffer {
  return Buffer.concat([
    ...(continuation ? [suspIndicator()] : []),
    rockRidgeFlags(RrFlags.PX | RrFlags.TF),
    posixAttributes(S_IFDIR | 0o555, 2),
    timestamps(timestamp),
    ...(continuation ? [continuation] : []),
  ]);
}
