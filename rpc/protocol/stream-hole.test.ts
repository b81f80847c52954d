import { ProtocolError } from "../errors";
import { hex } from "../../test/support/packets";
import { decodeStreamHole, encodeStreamHole } from "./stream-hole";

describe("virNetStreamHole", () => {
  it("encodes a hole as a 64-bit length and a zero flags word", () => {
    expect(encodeStreamHole(1024 * 1024)).toEqual(
      hex(`
        00000000 00100000  // length: hyper 1048576
        00000000           // flags
      `),
    );
  });

  it("carries lengths beyond 32 bits", () => {
    const length = 6 * 1024 ** 3 + 5;
    expect(encodeStreamHole(length)).toEqual(hex("00000001 80000005 00000000"));
    expect(decodeStreamHole(encodeStreamHole(length))).toBe(length);
  });

  it.each([0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1])(
    "refuses to encode a hole of %p bytes",
    (n) => {
      expect(() => encodeStreamHole(n)).toThrow(RangeError);
    },
  );

  it.each([
    ["a truncated payload", hex("00000000 00100000")],
    ["trailing bytes", hex("00000000 00100000 00000000 00000000")],
    ["a zero length", hex("00000000 00000000 00000000")],
    ["a negative length", hex("ffffffff ffffffff 00000000")],
    ["a length beyond 2^53", hex("00200000 00000000 00000000")],
    ["unknown flags", hex("00000000 00001000 00000001")],
  ])("rejects %s as a ProtocolError", (_what, payload) => {
    expect(() => decodeStreamHole(payload)).toThrow(ProtocolError);
  });
});
