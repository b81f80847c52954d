/**
 * File identifiers: the ECMA-119 level 1 name each file gets in the primary directory (what a reader
 * without Rock Ridge or Joliet sees), the Joliet name, and the order records take in a directory.
 */
import { Iso9660Error, ucs2be } from "./iso9660-fields";

/**
 * The names callers may use: the POSIX portable filename character set, at most 64 characters (the
 * Joliet limit), not "." or "..". Rock Ridge and Joliet record them unchanged.
 */
const PORTABLE_NAME = /^[A-Za-z0-9._-]{1,64}$/;

export function checkFileName(name: string): void {
  if (!PORTABLE_NAME.test(name) || name === "." || name === "..") {
    throw new Iso9660Error(
      `file name "${name}" is not allowed: use 1–64 of A–Z a–z 0–9 . _ - (and not "." or "..")`,
    );
  }
}

/** A volume identifier: d-characters (A–Z 0–9 _), or lower-case letters as genisoimage -V keeps. */
export function checkVolumeId(volumeId: string): void {
  if (!/^[A-Za-z0-9_]{1,16}$/.test(volumeId)) {
    throw new Iso9660Error(
      `volume identifier "${volumeId}" is not allowed: use 1–16 of A–Z a–z 0–9 _`,
    );
  }
}

/** d-characters (ECMA-119 7.4.1): anything else becomes "_", as genisoimage maps it. */
function dCharacters(text: string): string {
  return text.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
}

/**
 * Level 1 file identifiers (ECMA-119 7.5.1, 10.1): "NAME.EXT;1" with at most 8 d-characters of name
 * and 3 of extension, e.g. `user-data` → `USER_DAT.;1`. Names that collide get a number at the end
 * of their name part (`USER_DA1`). `names` must be in a fixed order for the result to be stable.
 */
export function levelOneIdentifiers(names: readonly string[]): string[] {
  const taken = new Set<string>();
  return names.map((name) => {
    const dot = name.lastIndexOf(".");
    const stem = dCharacters(dot > 0 ? name.slice(0, dot) : name).slice(0, 8) || "_";
    const extension = dCharacters(dot > 0 ? name.slice(dot + 1) : "").slice(0, 3);
    let candidate = stem;
    for (let counter = 1; taken.has(`${candidate}.${extension}`); counter += 1) {
      const suffix = String(counter);
      candidate = stem.slice(0, 8 - suffix.length) + suffix;
    }
    taken.add(`${candidate}.${extension}`);
    return `${candidate}.${extension};1`;
  });
}

/** The Joliet file identifier: the name in UCS-2 big-endian with version ";1", as genisoimage -J. */
export function jolietIdentifier(name: string): Buffer {
  return ucs2be(`${name};1`);
}

/**
 * ECMA-119 9.3, the order of directory records: by file name, then by extension, each compared as
 * if padded with spaces (0x20) to equal length, byte by byte; then by version, highest first.
 */
export function compareLevelOne(left: string, right: string): number {
  const split = (identifier: string) => {
    const [file = "", version = ""] = identifier.split(";");
    const dot = file.indexOf(".");
    return { stem: file.slice(0, dot), extension: file.slice(dot + 1), version: Number(version) };
  };
  const a = split(left);
  const b = split(right);
  return (
    comparePadded(a.stem, b.stem) ||
    comparePadded(a.extension, b.extension) ||
    b.version - a.version
  );
}

function comparePadded(left: string, right: string): number {
  const width = Math.max(left.length, right.length);
  const a = left.padEnd(width, " ");
  const b = right.padEnd(width, " ");
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Joliet records follow the same rule on the UCS-2 names; ours are portable ASCII names, so comparing
 * them padded with spaces gives the same order.
 */
export function compareJoliet(left: string, right: string): number {
  return comparePadded(left, right);
}
