/**
 * Sizes with units, as libvirt reads them in XML (`unit='G'`): K, M, G, T, P and their KiB… forms
 * are powers of 1024; KB, MB, GB, TB, PB are powers of 1000; B or no unit means bytes.
 */
const FACTORS: Record<string, bigint> = {
  "": 1n,
  b: 1n,
  byte: 1n,
  bytes: 1n,
  k: 1024n,
  kib: 1024n,
  kb: 1000n,
  m: 1024n ** 2n,
  mib: 1024n ** 2n,
  mb: 1000n ** 2n,
  g: 1024n ** 3n,
  gib: 1024n ** 3n,
  gb: 1000n ** 3n,
  t: 1024n ** 4n,
  tib: 1024n ** 4n,
  tb: 1000n ** 4n,
  p: 1024n ** 5n,
  pib: 1024n ** 5n,
  pb: 1000n ** 5n,
};

export const SIZE_HELP =
  'a number of bytes, or a string such as "20GiB", "512MiB", "1G" or "500MB"';

/** Parses a size to bytes; returns undefined when the value is not a size. */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === "number") {
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  }
  if (typeof value !== "string") return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(value);
  if (!match) return undefined;
  const factor = FACTORS[match[2]!.toLowerCase()];
  if (factor === undefined) return undefined;
  const [whole, fraction = ""] = match[1]!.split(".");
  // Exact arithmetic: "1.5GiB" is 1610612736 bytes, not a float approximation of it.
  const scale = 10n ** BigInt(fraction.length);
  const bytes = (BigInt(whole! + fraction) * factor) / scale;
  if ((BigInt(whole! + fraction) * factor) % scale !== 0n) return undefined;
  return bytes <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(bytes) : undefined;
}

/** A short human form of a byte count, for messages: 10737418240 → "10 GiB". */
export function formatSize(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}
