import { createHash } from "node:crypto";
import { ChecksumMismatchError, measure, peek } from "./measure";

async function* chunksOf(...parts: string[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield Buffer.from(part);
}

async function readAll(chunks: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts).toString();
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describe("reading ahead", () => {
  it("returns the first bytes and still yields everything from the start", async () => {
    const { head, rest } = await peek(chunksOf("ab", "cd", "ef", "gh"), 3);
    expect(head.toString()).toBe("abc");
    expect(await readAll(rest)).toBe("abcdefgh");
  });

  it("copes with content shorter than what it wants to read", async () => {
    const { head, rest } = await peek(chunksOf("ab"), 64);
    expect(head.toString()).toBe("ab");
    expect(await readAll(rest)).toBe("ab");
  });
});

describe("measuring content on its way to the volume", () => {
  it("hashes and counts what passes", async () => {
    const measured = measure(chunksOf("hello ", "world"), { label: "x", expectedSize: 11 });
    expect(await readAll(measured.chunks)).toBe("hello world");
    expect(measured.result()).toEqual({ sha256: sha256("hello world"), bytes: 11 });
  });

  it("fails the last read on a sha256 mismatch, giving expected and actual digests", async () => {
    const expected = "0".repeat(64);
    const measured = measure(chunksOf("hello"), { label: "disk.img", sha256: expected });
    const error = await readAll(measured.chunks).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChecksumMismatchError);
    expect((error as Error).message).toBe(
      `the content of disk.img does not match source.sha256: expected ${expected}, got ${sha256("hello")}`,
    );
  });

  it("accepts the digest in upper case", async () => {
    const measured = measure(chunksOf("hello"), {
      label: "x",
      sha256: sha256("hello").toUpperCase(),
    });
    await expect(readAll(measured.chunks)).resolves.toBe("hello");
  });

  it("fails content that ends before its announced size", async () => {
    const measured = measure(chunksOf("hel"), { label: "https://h/a.img", expectedSize: 5 });
    await expect(readAll(measured.chunks)).rejects.toThrow(
      "https://h/a.img ended after 3 of 5 bytes (a broken download or a file that shrank while uploading)",
    );
  });

  it("fails content larger than the volume instead of cutting it off", async () => {
    const measured = measure(chunksOf("hello", "world"), { label: "u", limit: 8 });
    await expect(readAll(measured.chunks)).rejects.toThrow(
      "u is larger than the volume's capacity of 8 bytes: raise capacity",
    );
  });

  it("names the source when reading it fails", async () => {
    async function* broken(): AsyncGenerator<Buffer> {
      yield Buffer.from("a");
      throw new Error("aborted");
    }
    await expect(readAll(measure(broken(), { label: "u" }).chunks)).rejects.toThrow(
      "reading u failed: aborted",
    );
  });
});
