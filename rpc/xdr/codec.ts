/**
 * XDR codecs as small composable values. A protocol type is declared once, as a combination of
 * these, and the same declaration both encodes and decodes it, and gives its TypeScript type:
 *
 *   const RemoteNonnullNetwork = struct({ name: string(REMOTE_STRING_MAX), uuid: fixedOpaque(16) });
 *   type RemoteNonnullNetwork = Infer<typeof RemoteNonnullNetwork>;
 *
 * Struct fields are encoded in declaration order (object key order), as XDR requires.
 */
import { XdrError } from "../errors";
import { XdrReader } from "./reader";
import { XdrWriter } from "./writer";

export interface Codec<T> {
  encode(writer: XdrWriter, value: T): void;
  decode(reader: XdrReader): T;
}

/** The TypeScript type a codec encodes and decodes. */
export type Infer<C> = C extends Codec<infer T> ? T : never;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCodec = Codec<any>;

export const int: Codec<number> = {
  encode: (w, v) => void w.int(v),
  decode: (r) => r.int(),
};

export const uint: Codec<number> = {
  encode: (w, v) => void w.uint(v),
  decode: (r) => r.uint(),
};

/** `hyper`: a signed 64-bit integer, always a bigint. */
export const hyper: Codec<bigint> = {
  encode: (w, v) => void w.hyper(v),
  decode: (r) => r.hyper(),
};

/** `unsigned hyper`: an unsigned 64-bit integer, always a bigint. */
export const uhyper: Codec<bigint> = {
  encode: (w, v) => void w.uhyper(v),
  decode: (r) => r.uhyper(),
};

export const double: Codec<number> = {
  encode: (w, v) => void w.double(v),
  decode: (r) => r.double(),
};

/** `void`: nothing on the wire. */
export const xdrVoid: Codec<void> = {
  encode: () => undefined,
  decode: () => undefined,
};

export function string(max: number): Codec<string> {
  return { encode: (w, v) => void w.string(v, max), decode: (r) => r.string(max) };
}

export function opaque(max: number): Codec<Buffer> {
  return { encode: (w, v) => void w.opaque(v, max), decode: (r) => r.opaque(max) };
}

export function fixedOpaque(size: number): Codec<Buffer> {
  return { encode: (w, v) => void w.fixedOpaque(v, size), decode: (r) => r.fixedOpaque(size) };
}

/**
 * `char x<max>`: unlike opaque, rpcgen encodes a char array element by element with xdr_char, so
 * every byte takes a whole four-byte int on the wire (sign-extended from a C char). Used for SASL
 * data. On decode only the low eight bits of each int are kept, as the C side does.
 */
export function charArray(max: number): Codec<Buffer> {
  return {
    encode(w, bytes) {
      if (bytes.length > max) {
        throw new XdrError(`char array of ${bytes.length} bytes exceeds its maximum of ${max}`);
      }
      w.uint(bytes.length);
      for (const byte of bytes) w.int(byte > 127 ? byte - 256 : byte);
    },
    decode(r) {
      const at = r.offset;
      const count = r.uint();
      if (count > max) {
        throw new XdrError(
          `char array length ${count} at offset ${at} exceeds its maximum of ${max}`,
        );
      }
      const bytes = Buffer.allocUnsafe(count);
      for (let i = 0; i < count; i++) bytes[i] = r.int() & 0xff;
      return bytes;
    },
  };
}

/** `char x[size]`: a fixed char array, four wire bytes per byte, no count. */
export function fixedCharArray(size: number): Codec<Buffer> {
  return {
    encode(w, bytes) {
      if (bytes.length !== size) {
        throw new XdrError(`fixed char array needs exactly ${size} bytes, got ${bytes.length}`);
      }
      for (const byte of bytes) w.int(byte > 127 ? byte - 256 : byte);
    },
    decode(r) {
      const bytes = Buffer.allocUnsafe(size);
      for (let i = 0; i < size; i++) bytes[i] = r.int() & 0xff;
      return bytes;
    },
  };
}

/**
 * `T *x`: an optional value, a presence word (0 absent, 1 present) then the value. Absent decodes
 * to null; null and undefined encode as absent. libvirt's decoders accept any non-zero presence
 * word, and so does this one.
 */
export function optional<T>(codec: Codec<T>): Codec<T | null> {
  return {
    encode(w, v) {
      if (v === null || v === undefined) {
        w.uint(0);
      } else {
        w.uint(1);
        codec.encode(w, v);
      }
    },
    decode: (r) => (r.uint() === 0 ? null : codec.decode(r)),
  };
}

/** `T x<max>`: a count word, then that many elements; a count over `max` is an error. */
export function array<T>(codec: Codec<T>, max: number): Codec<T[]> {
  return {
    encode(w, values) {
      if (!Array.isArray(values)) throw new XdrError(`expected an array, got ${typeof values}`);
      if (values.length > max) {
        throw new XdrError(`array of ${values.length} elements exceeds its maximum of ${max}`);
      }
      w.uint(values.length);
      for (const value of values) codec.encode(w, value);
    },
    decode(r) {
      const at = r.offset;
      const count = r.uint();
      if (count > max) {
        throw new XdrError(`array length ${count} at offset ${at} exceeds its maximum of ${max}`);
      }
      // Each element takes at least four bytes: a count the input cannot hold is refused before
      // anything is allocated.
      if (count * 4 > r.remaining) {
        throw new XdrError(`array length ${count} at offset ${at} is longer than the data`);
      }
      const values: T[] = new Array<T>(count);
      for (let i = 0; i < count; i++) values[i] = codec.decode(r);
      return values;
    },
  };
}

/** `T x[size]`: exactly `size` elements, no count word. */
export function fixedArray<T>(codec: Codec<T>, size: number): Codec<T[]> {
  return {
    encode(w, values) {
      if (!Array.isArray(values) || values.length !== size) {
        throw new XdrError(`fixed array needs exactly ${size} elements`);
      }
      for (const value of values) codec.encode(w, value);
    },
    decode(r) {
      const values: T[] = new Array<T>(size);
      for (let i = 0; i < size; i++) values[i] = codec.decode(r);
      return values;
    },
  };
}

export type StructFields = Record<string, AnyCodec>;
export type StructValue<F extends StructFields> = { [K in keyof F]: Infer<F[K]> };

/** `struct { … }`: the fields in declaration order, nothing between them. */
export function struct<F extends StructFields>(fields: F): Codec<StructValue<F>> {
  const entries = Object.entries(fields);
  return {
    encode(w, value) {
      if (value === null || typeof value !== "object") {
        throw new XdrError(`expected a struct with fields ${Object.keys(fields).join(", ")}`);
      }
      for (const [name, codec] of entries) {
        try {
          codec.encode(w, (value as Record<string, unknown>)[name]);
        } catch (error) {
          throw prefixed(error, name);
        }
      }
    },
    decode(r) {
      const value: Record<string, unknown> = {};
      for (const [name, codec] of entries) value[name] = codec.decode(r);
      return value as StructValue<F>;
    },
  };
}

export type UnionArms = Record<number, AnyCodec>;
export type UnionValue<A extends UnionArms> = {
  [K in keyof A]: { type: K; value: Infer<A[K]> };
}[keyof A];

/**
 * `union switch (int type) { case 1: … }`: the discriminant, then the arm it selects. An unknown
 * discriminant cannot be skipped (the arm's size is unknown) and is an error.
 */
export function union<A extends UnionArms>(arms: A): Codec<UnionValue<A>> {
  return {
    encode(w, value) {
      const arm = arms[value.type as number];
      if (arm === undefined)
        throw new XdrError(`union has no arm for discriminant ${String(value.type)}`);
      w.int(value.type as number);
      arm.encode(w, value.value);
    },
    decode(r) {
      const at = r.offset;
      const type = r.int();
      const arm = arms[type];
      if (arm === undefined)
        throw new XdrError(`unknown union discriminant ${type} at offset ${at}`);
      return { type, value: arm.decode(r) } as UnionValue<A>;
    },
  };
}

/** The error of a struct's field, with the field's name before the path it already has. */
function prefixed(error: unknown, field: string): unknown {
  if (!(error instanceof XdrError)) return error;
  return new XdrError(error.problem, { cause: error.cause, field: [field, ...error.field] });
}

/** Encodes one value into a fresh buffer. */
export function encode<T>(codec: Codec<T>, value: T): Buffer {
  const writer = new XdrWriter();
  codec.encode(writer, value);
  return writer.finish();
}

/** Decodes a whole buffer; bytes left over are an error. */
export function decode<T>(codec: Codec<T>, data: Buffer, what?: string): T {
  const reader = new XdrReader(data);
  const value = codec.decode(reader);
  reader.assertEnd(what);
  return value;
}
