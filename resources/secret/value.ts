/**
 * A Secret's value as bytes (what SECRET_SET_VALUE and SECRET_GET_VALUE carry) and as the text the
 * user writes (`valueEncoding`). Nothing here puts a value in a message.
 */
import type { SecretValueEncoding } from "../kit/generated/types";

/** libvirt's REMOTE_SECRET_VALUE_MAX. */
const MAX_VALUE_BYTES = 65536;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function valueBytes(value: string, encoding: SecretValueEncoding): Buffer {
  return encoding === "base64" ? Buffer.from(value, "base64") : Buffer.from(value, "utf8");
}

/** Why `value` cannot be stored as written, or undefined; never quotes the value. */
export function valueProblem(value: string, encoding: SecretValueEncoding): string | undefined {
  if (encoding === "base64") {
    const compact = value.replace(/\s+/g, "");
    if (!BASE64.test(compact) || compact.length % 4 === 1) {
      return "value is not base64 (valueEncoding is base64): write the bytes in base64, or set valueEncoding to utf8 for text";
    }
  }
  const size = valueBytes(value, encoding).length;
  if (size > MAX_VALUE_BYTES) {
    return `value is ${size} bytes, and libvirt keeps at most ${MAX_VALUE_BYTES}: use a shorter value`;
  }
  return undefined;
}

/**
 * The value as the state should hold it after a read found `stored`: the value as last given when
 * it stands for the same bytes (base64 written with line breaks or without padding stays as it
 * was, no diff), else the stored bytes in the given encoding; bytes that are no UTF-8 text come
 * back in base64.
 */
export function valueRead(
  stored: Buffer,
  given: string | undefined,
  encoding: SecretValueEncoding,
): { value: string; valueEncoding: SecretValueEncoding } {
  if (given !== undefined && given !== null && valueBytes(given, encoding).equals(stored)) {
    return { value: given, valueEncoding: encoding };
  }
  const text = stored.toString("utf8");
  if (encoding === "utf8" && Buffer.from(text, "utf8").equals(stored)) {
    return { value: text, valueEncoding: "utf8" };
  }
  return { value: stored.toString("base64"), valueEncoding: "base64" };
}
