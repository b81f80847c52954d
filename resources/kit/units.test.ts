import { bareNumberHint, formatSize, parseSize, sizeProblem } from "./units";

describe("sizes", () => {
  it.each([
    [1024, 1024],
    ["1024", 1024],
    ["10GiB", 10 * 2 ** 30],
    ["10G", 10 * 2 ** 30],
    ["10 GB", 10 * 10 ** 9],
    ["512MiB", 512 * 2 ** 20],
    ["1.5GiB", 1.5 * 2 ** 30],
    ["2T", 2 * 2 ** 40],
    ["0", 0],
  ])("reads %p as %p bytes", (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });

  it.each([["ten"], ["10 XB"], [-1], [1.5], ["1.0000000001KiB"], [""], [null], [true]])(
    "refuses %p",
    (input) => {
      expect(parseSize(input)).toBeUndefined();
    },
  );

  it.each([
    ["100000PiB", "is more than the largest size virtwire handles"],
    [2 ** 60, "is more than the largest size virtwire handles"],
    ["1.0000000001KiB", "is not a whole number of bytes"],
    [1.5, "is not a whole number of bytes"],
    [-1, "is negative"],
    ["-5GiB", "is negative"],
    ["ten", "is not a size: use a number of bytes"],
    ["10 XB", "is not a size"],
  ])("says why %p is not a size", (input, reason) => {
    expect(sizeProblem(input)).toContain(reason);
  });

  it("has nothing to say about a size", () => {
    expect(sizeProblem("8PiB")).toContain("more than");
    expect(sizeProblem("7PiB")).toBeUndefined();
  });

  it("prints sizes for people", () => {
    expect(formatSize(10 * 2 ** 30)).toBe("10 GiB");
    expect(formatSize(1536)).toBe("1.5 KiB");
  });
});

describe("a bare number", () => {
  it.each([[512], ["512"], [" 2048 "]])(
    "%p is said to be bytes, with the MiB spelling",
    (value) => {
      const number = String(value).trim();
      expect(bareNumberHint(value)).toBe(
        ` (a bare number is bytes: for ${number} MiB write "${number}MiB")`,
      );
    },
  );

  it.each([["512MiB"], ["1G"], ["1.5"], [undefined]])("%p gets no hint", (value) => {
    expect(bareNumberHint(value)).toBe("");
  });
});
