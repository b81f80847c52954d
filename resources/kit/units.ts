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

/** Parses a size to bytes; returns undefined when the value is not a size (sizeProblem says why). */
export function parseSize(value: unknown): number | undefined {
  const read = readSize(value);
  return "bytes" in read ? read.bytes : undefined;
}

/**
 * Why a value is not a size, in words that end with the fix; undefined for a size. Tells a value
 * that is not a size at all from one that is too large or not a whole number of bytes.
 */
export function sizeProblem(value: unknown): string | undefined {
  const read = readSize(value);
  if ("bytes" in read) return undefined;
  switch (read.problem) {
    case "too large":
      return `is more than the largest size virtwire handles, ${MAX_SIZE_TEXT} (2^53 - 1 bytes): use a smaller size`;
    case "fraction":
      return "is not a whole number of bytes: use a smaller unit, e.g. 1536MiB instead of 1.5000001GiB";
    case "negative":
      return "is negative: use a size of 0 bytes or more";
    default:
      return `is not a size: use ${SIZE_HELP}`;
  }
}

/**
 * For a size given as a bare number (`512`, `"512"`), which is bytes: a hint that says so and
 * suggests the number in MiB, the unit other libvirt tools (pulumi-libvirt's `memory`, virsh's
 * `--memory`) take bare numbers in. Empty for a size with a unit.
 */
export function bareNumberHint(value: unknown): string {
  const bare =
    typeof value === "number" || (typeof value === "string" && /^\s*\d+\s*$/.test(value));
  if (!bare) return "";
  const number = String(value).trim();
  return ` (a bare number is bytes: for ${number} MiB write "${number}MiB")`;
}

/** 2^53 - 1 bytes, the largest size a JavaScript number holds exactly: just under 8 PiB. */
const MAX_SIZE_TEXT = "8 PiB";

type SizeReading =
  { bytes: number } | { problem: "not a size" | "too large" | "fraction" | "negative" };

function readSize(value: unknown): SizeReading {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return { problem: "not a size" };
    if (value < 0) return { problem: "negative" };
    if (!Number.isInteger(value)) return { problem: "fraction" };
    return Number.isSafeInteger(value) ? { bytes: value } : { problem: "too large" };
  }
  if (typeof value !== "string") return { problem: "not a size" };
  if (/^\s*-\s*\d/.test(value)) return { problem: "negative" };
  const match = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(value);
  if (!match) return { problem: "not a size" };
  const factor = FACTORS[match[2]!.toLowerCase()];
  if (factor === undefined) return { problem: "not a size" };
  const [whole, fraction = ""] = match[1]!.split(".");
  // Exact arithmetic: "1.5GiB" is 1610612736 bytes, not a float approximation of it.
  const scale = 10n ** BigInt(fraction.length);
  const scaled = BigInt(whole! + fraction) * factor;
  if (scaled % scale !== 0n) return { problem: "fraction" };
  const bytes = scaled / scale;
  return bytes <= BigInt(Number.MAX_SAFE_INTEGER)
    ? { bytes: Number(bytes) }
    : { problem: "too large" };
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
