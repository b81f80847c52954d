import { XdrError } from "../errors";
import {
  array,
  charArray,
  decode,
  encode,
  fixedCharArray,
  fixedOpaque,
  hyper,
  int,
  opaque,
  optional,
  string,
  struct,
  uhyper,
  uint,
  union,
  xdrVoid,
} from ".";
import { hex } from "../../test/support/packets";

describe("XDR primitives", () => {
  it("encodes int, unsigned int and hyper big-endian", () => {
    expect(encode(int, -2)).toEqual(hex("fffffffe"));
    expect(encode(uint, 0xdeadbeef)).toEqual(hex("deadbeef"));
    expect(encode(hyper, -1n)).toEqual(hex("ffffffff ffffffff"));
    expect(encode(uhyper, 2n ** 64n - 1n)).toEqual(hex("ffffffff ffffffff"));
  });

  it("decodes hyper values beyond 2^53 exactly as bigint", () => {
    expect(decode(uhyper, hex("00200000 00000001"))).toBe(2n ** 53n + 1n);
    expect(decode(hyper, hex("80000000 00000000"))).toBe(-(2n ** 63n));
  });

  it("refuses numbers out of range instead of wrapping them", () => {
    expect(() => encode(int, 2 ** 31)).toThrow(XdrError);
    expect(() => encode(uint, -1)).toThrow(XdrError);
    expect(() => encode(uint, 1.5)).toThrow(XdrError);
    expect(() => encode(uhyper, -1n)).toThrow(XdrError);
    expect(() => encode(hyper, 2n ** 63n)).toThrow(XdrError);
  });

  it("writes strings as length, UTF-8 bytes and zero padding", () => {
    expect(encode(string(100), "qemu:///system")).toEqual(
      hex("0000000e 71656d75 3a2f2f2f 73797374 656d 0000"),
    );
    expect(encode(string(10), "")).toEqual(hex("00000000"));
    expect(decode(string(10), hex("00000002 c3a90000"))).toBe("é");
  });

  it("pads opaque data but not fixed opaque data of a multiple of four", () => {
    expect(encode(opaque(10), Buffer.from([1, 2, 3, 4, 5]))).toEqual(
      hex("00000005 01020304 05000000"),
    );
    expect(encode(fixedOpaque(4), Buffer.from([9, 8, 7, 6]))).toEqual(hex("09080706"));
    expect(() => encode(fixedOpaque(16), Buffer.alloc(15))).toThrow(XdrError);
  });

  it("encodes char arrays with one four-byte int per byte, sign-extended", () => {
    expect(encode(charArray(8), Buffer.from([0x41, 0xff]))).toEqual(
      hex("00000002 00000041 ffffffff"),
    );
    expect(decode(charArray(8), hex("00000002 00000041 ffffffff"))).toEqual(
      Buffer.from([0x41, 0xff]),
    );
    expect(decode(fixedCharArray(2), hex("00000061 00000062"))).toEqual(Buffer.from("ab"));
  });
});

describe("strict decoding", () => {
  it("rejects non-zero padding", () => {
    expect(() => decode(string(10), hex("00000001 61000100"))).toThrow(/non-zero padding/);
    expect(() => decode(opaque(10), hex("00000003 01020301"))).toThrow(XdrError);
  });

  it("rejects lengths over the declared maximum before reading the data", () => {
    expect(() => decode(string(4), hex("00000005 61626364 65000000"))).toThrow(
      /exceeds its maximum of 4/,
    );
    expect(() => decode(opaque(2), hex("ffffffff"))).toThrow(/exceeds its maximum/);
    expect(() =>
      decode(array(int, 3), hex("00000004 00000000 00000000 00000000 00000000")),
    ).toThrow(/exceeds its maximum of 3/);
    expect(() => decode(charArray(1), hex("00000002 00000000 00000000"))).toThrow(XdrError);
  });

  it("rejects an array count the data cannot hold without allocating it", () => {
    expect(() => decode(array(int, 1 << 30), hex("10000000"))).toThrow(/longer than the data/);
  });

  it("rejects trailing bytes", () => {
    expect(() => decode(int, hex("00000001 00000000"))).toThrow(/trailing bytes/);
  });

  it("rejects truncated input", () => {
    expect(() => decode(hyper, hex("00000001"))).toThrow(/truncated/);
    expect(() => decode(string(10), hex("00000008 6162"))).toThrow(/truncated/);
  });

  it("rejects an unknown union discriminant", () => {
    const value = union({ 1: int, 7: string(10) });
    expect(decode(value, hex("00000001 00000005"))).toEqual({ type: 1, value: 5 });
    expect(() => decode(value, hex("00000003 00000005"))).toThrow(/unknown union discriminant 3/);
  });
});

describe("composite codecs", () => {
  const Domain = struct({ name: string(64), uuid: fixedOpaque(16), id: int });
  const sample = { name: "vm1", uuid: Buffer.alloc(16, 0xab), id: -1 };

  it("round-trips a struct in declaration order", () => {
    const bytes = encode(Domain, sample);
    expect(bytes.subarray(0, 8)).toEqual(hex("00000003 766d3100"));
    expect(decode(Domain, bytes)).toEqual(sample);
  });

  it("encodes optional values with a presence word and accepts any non-zero word on decode", () => {
    const maybe = optional(string(10));
    expect(encode(maybe, null)).toEqual(hex("00000000"));
    expect(encode(maybe, undefined as unknown as null)).toEqual(hex("00000000"));
    expect(encode(maybe, "a")).toEqual(hex("00000001 00000001 61000000"));
    expect(decode(maybe, hex("00000002 00000001 61000000"))).toBe("a");
  });

  it("names the offending field when arguments cannot be encoded", () => {
    const Args = struct({ dom: Domain, flags: uint });
    expect(() =>
      encode(Args, { dom: { ...sample, name: 42 as unknown as string }, flags: 0 }),
    ).toThrow("field dom.name: expected a string, got number");
  });

  it("encodes void as nothing", () => {
    expect(encode(xdrVoid, undefined)).toHaveLength(0);
    expect(decode(xdrVoid, Buffer.alloc(0))).toBeUndefined();
  });

  it("round-trips random structs byte for byte", () => {
    const Record = struct({ a: int, b: uhyper, c: optional(string(32)), d: array(opaque(8), 4) });
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 200; i++) {
      const value = {
        a: (next() % 2 ** 31) - 2 ** 30,
        b: BigInt(next()) * BigInt(next()),
        c: next() % 2 ? null : "x".repeat(next() % 32),
        d: Array.from({ length: next() % 5 }, () => Buffer.alloc(next() % 9, next() % 256)),
      };
      const bytes = encode(Record, value);
      expect(bytes.length % 4).toBe(0);
      expect(decode(Record, bytes)).toEqual(value);
      expect(encode(Record, decode(Record, bytes))).toEqual(bytes);
    }
  });
});
