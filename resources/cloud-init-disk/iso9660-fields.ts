/**
 * Field encoders of ECMA-119 (ISO 9660), 4th edition, section 7 ("recording of fields"): numbers,
 * both-byte-order numbers, character fields and the two date-and-time formats.
 */

/** The logical sector (and logical block) size of every image we write: 2048 bytes (6.1.2). */
export const SECTOR_SIZE = 2048;

/** Thrown for inputs an image cannot hold (names, sizes, dates). */
export class Iso9660Error extends Error {
  override name = "Iso9660Error";
}

/** 7.2.3: a 16-bit number recorded little-endian then big-endian (4 bytes). */
export function writeBoth16(buffer: Buffer, offset: number, value: number): void {
  buffer.writeUInt16LE(value, offset);
  buffer.writeUInt16BE(value, offset + 2);
}

/** 7.3.3: a 32-bit number recorded little-endian then big-endian (8 bytes). */
export function writeBoth32(buffer: Buffer, offset: number, value: number): void {
  buffer.writeUInt32LE(value, offset);
  buffer.writeUInt32BE(value, offset + 4);
}

/** 7.3.3 as a standalone 8-byte field, for SUSP entries that embed both-byte-order numbers. */
export function both32(value: number): Buffer {
  const field = Buffer.alloc(8);
  writeBoth32(field, 0, value);
  return field;
}

/**
 * An a- or d-character field (7.4): ASCII, left-justified, filled with spaces (0x20) to `length`.
 * Callers validate the characters; this only refuses text that does not fit.
 */
export function writeAsciiField(buffer: Buffer, offset: number, length: number, text: string) {
  if (text.length > length) {
    throw new Iso9660Error(`"${text}" is longer than its ${length}-byte field`);
  }
  buffer.fill(0x20, offset, offset + length);
  buffer.write(text, offset, "latin1");
}

/** Joliet: a character field in UCS-2 big-endian, filled with UCS-2 spaces (00 20) to `length`. */
export function writeUcs2Field(buffer: Buffer, offset: number, length: number, text: string) {
  const encoded = ucs2be(text);
  if (encoded.length > length) {
    throw new Iso9660Error(`"${text}" is longer than its ${length}-byte field`);
  }
  for (let at = offset; at < offset + length; at += 2) {
    buffer[at] = 0x00;
    if (at + 1 < offset + length) buffer[at + 1] = 0x20;
  }
  encoded.copy(buffer, offset);
}

/** UCS-2 big-endian: Node writes UTF-16 little-endian, so swap each code unit. */
export function ucs2be(text: string): Buffer {
  return Buffer.from(text, "utf16le").swap16();
}

/** The dates a volume descriptor and a directory record can hold: years 1900–2155 (9.1.5). */
export function checkTimestamp(timestamp: Date): void {
  const year = timestamp.getUTCFullYear();
  if (Number.isNaN(timestamp.getTime()) || year < 1900 || year > 2155) {
    throw new Iso9660Error(`timestamp ${String(timestamp)} is outside 1900–2155`);
  }
}

const digits = (value: number, width: number) => String(value).padStart(width, "0");

/**
 * 8.4.26.1, the volume descriptor date and time (17 bytes): "YYYYMMDDHHMMSScc" in digits, then the
 * offset from GMT in 15-minute intervals (a signed byte). We always record GMT (offset 0).
 * `undefined` records "not specified": sixteen '0' digits and a zero offset.
 */
export function writeVolumeDate(buffer: Buffer, offset: number, timestamp?: Date): void {
  const text = timestamp
    ? digits(timestamp.getUTCFullYear(), 4) +
      digits(timestamp.getUTCMonth() + 1, 2) +
      digits(timestamp.getUTCDate(), 2) +
      digits(timestamp.getUTCHours(), 2) +
      digits(timestamp.getUTCMinutes(), 2) +
      digits(timestamp.getUTCSeconds(), 2) +
      digits(Math.floor(timestamp.getUTCMilliseconds() / 10), 2)
    : "0".repeat(16);
  buffer.write(text, offset, "latin1");
  buffer[offset + 16] = 0;
}

/**
 * 9.1.5, the directory record date and time (7 bytes): years since 1900, month, day, hour, minute,
 * second, GMT offset in 15-minute intervals. RRIP's TF entry uses the same format (RRIP 4.1.6).
 */
export function recordingDate(timestamp: Date): Buffer {
  return Buffer.from([
    timestamp.getUTCFullYear() - 1900,
    timestamp.getUTCMonth() + 1,
    timestamp.getUTCDate(),
    timestamp.getUTCHours(),
    timestamp.getUTCMinutes(),
    timestamp.getUTCSeconds(),
    0,
  ]);
}

/** Bytes rounded up to whole sectors. */
export function sectorsFor(bytes: number): number {
  return Math.ceil(bytes / SECTOR_SIZE);
}
