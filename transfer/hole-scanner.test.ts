import { randomBytes } from "node:crypto";
import type { StreamChunk } from "../rpc/internal";
import { HOLE_GRANULE, HoleScanner, ZERO_PREFIX, isAllZero } from "./hole-scanner";

/** Turns extents back into the bytes they stand for. */
function materialise(extents: StreamChunk[]): Buffer {
  return Buffer.concat(extents.map((e) => (e.type === "data" ? e.data : Buffer.alloc(e.length))));
}

function scan(chunks: Buffer[], granule?: number, start?: number): StreamChunk[] {
  const scanner = new HoleScanner(granule, start);
  return [...chunks.flatMap((chunk) => scanner.push(chunk)), ...scanner.end()];
}

/** Extents as a compact string, e.g. "D8 H16 D4". */
function shape(extents: StreamChunk[]): string {
  const merged: [string, number][] = [];
  for (const e of extents) {
    const kind = e.type === "data" ? "D" : "H";
    const size = e.type === "data" ? e.data.length : e.length;
    const last = merged[merged.length - 1];
    if (last && last[0] === kind) last[1] += size;
    else merged.push([kind, size]);
  }
  return merged.map(([kind, size]) => `${kind}${size}`).join(" ");
}

describe("HoleScanner", () => {
  it("turns an all-zero input into a single hole", () => {
    const extents = scan([Buffer.alloc(10 * HOLE_GRANULE), Buffer.alloc(3 * HOLE_GRANULE)]);
    expect(extents).toEqual([{ type: "hole", length: 13 * HOLE_GRANULE }]);
  });

  it("returns data granules that sit side by side as one view of the chunk", () => {
    const data = randomBytes(4 * HOLE_GRANULE);
    const extents = scan([data]);
    expect(extents).toHaveLength(1);
    expect(extents[0]).toEqual({ type: "data", data });
    expect((extents[0] as { data: Buffer }).data.buffer).toBe(data.buffer);
  });

  it("counts granules from the volume's start, for an input that begins part-way into one", () => {
    const g = 16;
    // At volume offset 36: a 12-byte first granule of data, then a granule of zeros on the
    // volume's grid (a hole), then data.
    const input = Buffer.concat([randomBytes(12), Buffer.alloc(g), randomBytes(g)]);
    const extents = scan([input.subarray(0, 5), input.subarray(5)], g, 36);
    expect(shape(extents)).toBe(`D12 H${g} D${g}`);
    expect(materialise(extents)).toEqual(input);
    // Counted from the input's start instead, no granule is all zeros.
    expect(shape(scan([input], g))).toBe(`D${input.length}`);
  });

  it("takes the data of chunks cut on the volume's grid as views, for an input that starts mid-granule", () => {
    // As a marked Volume upload sends a file from byte 512, read in blocks of whole granules.
    const file = randomBytes(4 * HOLE_GRANULE);
    const chunks = [file.subarray(512, 2 * HOLE_GRANULE), file.subarray(2 * HOLE_GRANULE)];
    const extents = scan(chunks, HOLE_GRANULE, 512);
    expect(materialise(extents)).toEqual(file.subarray(512));
    const views = extents.filter((e) => e.type === "data" && e.data.buffer === file.buffer);
    expect(extents.length - views.length).toBe(1); // only the short first granule is a copy
  });

  it("rejects a negative or fractional start", () => {
    expect(() => new HoleScanner(HOLE_GRANULE, -1)).toThrow(RangeError);
    expect(() => new HoleScanner(HOLE_GRANULE, 0.5)).toThrow(RangeError);
  });

  it("keeps zero runs shorter than a granule inside the data", () => {
    const input = randomBytes(2 * HOLE_GRANULE);
    input.fill(0, 100, 100 + HOLE_GRANULE); // a zero run that straddles two granules
    expect(shape(scan([input]))).toBe(`D${2 * HOLE_GRANULE}`);
  });

  it("finds holes on granule boundaries, a trailing hole included", () => {
    const g = 16;
    const input = Buffer.concat([
      randomBytes(g),
      Buffer.alloc(3 * g),
      randomBytes(2 * g),
      Buffer.alloc(g),
      randomBytes(5), // data at the start of a granule the next chunk completes
      Buffer.alloc(0),
    ]);
    const extents = scan([input, Buffer.alloc(2 * g)], g);
    expect(shape(extents)).toBe(`D${g} H${3 * g} D${2 * g} H${g} D${g} H${g + 5}`);
    expect(materialise(extents)).toEqual(Buffer.concat([input, Buffer.alloc(2 * g)]));
  });

  it("counts a short all-zero last granule as hole", () => {
    expect(shape(scan([randomBytes(16), Buffer.alloc(7)], 16))).toBe("D16 H7");
  });

  it("gives the same result however the input is split", () => {
    const g = 8;
    const input = Buffer.concat([
      Buffer.alloc(2 * g),
      randomBytes(g + 3),
      Buffer.alloc(3 * g - 3),
      randomBytes(2),
      Buffer.alloc(g * 2 + 5),
    ]);
    const whole = shape(scan([input], g));
    expect(whole).toBe(`H${2 * g} D${2 * g} H${2 * g} D${g} H${g + 7}`);
    for (let first = 0; first <= input.length; first++) {
      for (let second = first; second <= input.length; second += 3) {
        const pieces = [
          input.subarray(0, first),
          input.subarray(first, second),
          input.subarray(second),
        ];
        const extents = scan(pieces, g);
        expect(shape(extents)).toBe(whole);
        expect(materialise(extents)).toEqual(input);
      }
    }
  });

  it("does not let a reused granule buffer change data it already returned", () => {
    const g = 8;
    const scanner = new HoleScanner(g);
    const first = scanner.push(Buffer.from("abcdefghijkl")); // 8 whole + 4 kept
    const second = scanner.push(Buffer.from("mnop" + "qrstuvwx" + "yz"));
    const third = scanner.push(Buffer.from("012345"));
    const all = [...first, ...second, ...third, ...scanner.end()];
    expect(materialise(all).toString()).toBe("abcdefghijklmnopqrstuvwxyz012345");
  });

  it("refuses a granule that is not a positive whole number", () => {
    expect(() => new HoleScanner(0)).toThrow(RangeError);
    expect(() => new HoleScanner(1.5)).toThrow(RangeError);
  });

  it("finds a single nonzero byte anywhere in a chunk that is otherwise one long hole", () => {
    const g = 16;
    const input = Buffer.alloc(20 * g);
    for (const at of [
      0,
      1,
      ZERO_PREFIX - 1,
      ZERO_PREFIX,
      ZERO_PREFIX + 1,
      10 * g + 3,
      20 * g - 1,
    ]) {
      input.fill(0);
      input[at] = 0x80;
      const granuleStart = Math.floor(at / g) * g;
      const expected = [
        granuleStart > 0 ? `H${granuleStart}` : "",
        `D${g}`,
        granuleStart + g < input.length ? `H${input.length - granuleStart - g}` : "",
      ];
      expect(shape(scan([input], g))).toBe(expected.filter(Boolean).join(" "));
    }
  });
});

describe("isAllZero", () => {
  it("finds any one nonzero byte in spans shorter than, as long as and longer than its prefix", () => {
    for (const length of [
      1,
      7,
      ZERO_PREFIX - 1,
      ZERO_PREFIX,
      ZERO_PREFIX + 1,
      3 * ZERO_PREFIX + 5,
    ]) {
      const buffer = Buffer.alloc(length + 10);
      expect(isAllZero(buffer, 5, length)).toBe(true);
      for (let at = 5; at < 5 + length; at++) {
        for (const value of [1, 0x80, 0xff]) {
          buffer.fill(0);
          buffer[at] = value;
          expect(isAllZero(buffer, 5, length)).toBe(false);
        }
      }
    }
  });

  it("looks only at its span: nonzero bytes just before and just after do not count", () => {
    const buffer = Buffer.alloc(2 * ZERO_PREFIX + 2);
    buffer[0] = 1;
    buffer[buffer.length - 1] = 1;
    expect(isAllZero(buffer, 1, buffer.length - 2)).toBe(true);
    expect(isAllZero(buffer, 0, buffer.length - 1)).toBe(false);
    expect(isAllZero(buffer, 1, buffer.length - 1)).toBe(false);
  });

  it("finds a span repeating a nonzero pattern with the prefix's period", () => {
    const buffer = Buffer.alloc(4 * ZERO_PREFIX, 0x55);
    expect(isAllZero(buffer, 0, buffer.length)).toBe(false);
    buffer.fill(0, 0, ZERO_PREFIX - 1);
    expect(isAllZero(buffer, 0, buffer.length)).toBe(false);
  });

  it("calls an empty span all zeros", () => {
    expect(isAllZero(Buffer.alloc(4), 2, 0)).toBe(true);
  });
});
