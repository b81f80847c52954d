import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { constants, existsSync } from "node:fs";
import { mkdtemp, open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BUFFERED_READ_SIZE,
  DIRECT_READ_SIZE,
  FileReader,
  READ_AHEAD_BLOCKS,
  READS_AT_ONCE,
  SCANNED_READ_SIZE,
  readAheadBlocksFree,
} from "./file-reader";
import { HOLE_GRANULE } from "./hole-scanner";
import { STREAM_DATA_MAX } from "../rpc/internal";
import { writeSparseFile } from "../test/support/sparse-file";

const MiB = 1024 * 1024;

let dir: string;
/** Where FileHandle's methods live (the class itself is not exported by node:fs/promises). */
let fileHandlePrototype: {
  read: (
    buffer: Buffer,
    offset: number,
    length: number,
    position: number | null,
  ) => Promise<{ bytesRead: number }>;
};
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vwtest-file-reader-"));
  const probe = await open(join(dir, "probe"), "w");
  fileHandlePrototype = Object.getPrototypeOf(probe);
  await probe.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
// Every test's readers are done by its end: none may keep blocks of the process's read-ahead.
afterEach(() => expect(readAheadBlocksFree()).toBe(READ_AHEAD_BLOCKS));

/** A file with data at `extents` and holes elsewhere, `size` bytes long, in the test's folder. */
const sparseFile = (name: string, size: number, extents: [number, number][]) =>
  writeSparseFile(join(dir, name), size, extents);

/** Everything a reader yields, copied out of its reused buffer. */
async function readAll(reader: FileReader, length = 0): Promise<Buffer> {
  const copies: Buffer[] = [];
  for await (const chunk of reader.chunks(length)) copies.push(Buffer.from(chunk));
  await reader.close();
  return Buffer.concat(copies);
}

/** The length of every chunk a reader yields, reading to the end; closes it. */
async function chunkSizes(reader: FileReader): Promise<number[]> {
  const sizes: number[] = [];
  for await (const chunk of reader.chunks()) sizes.push(chunk.length);
  await reader.close();
  return sizes;
}

/** The blocks (ArrayBuffers) a reader of `path` yields its chunks from, reading it to its end. */
async function blocksRead(path: string): Promise<Set<ArrayBufferLike>> {
  const reader = await FileReader.open(path);
  const blocks = new Set<ArrayBufferLike>();
  for await (const chunk of reader.chunks()) blocks.add(chunk.buffer);
  await reader.close();
  return blocks;
}

/** A real read of the spied-on call, of `length` bytes if given (else as asked). */
type Read = (length?: number) => Promise<{ bytesRead: number }>;

/**
 * Puts `answer` in front of every FileHandle read (all of them, in this process) until restored,
 * and counts the reads: `call` is 1 for the first, `read` does the real one.
 */
function spyOnReads(
  answer: (call: number, read: Read) => Promise<{ bytesRead: number }> = (_, read) => read(),
) {
  const counts = { started: 0, running: 0, restore: () => spy.mockRestore() };
  const real = fileHandlePrototype.read;
  const spy = jest.spyOn(fileHandlePrototype, "read").mockImplementation(function (
    this: unknown,
    buffer: Buffer,
    offset: number,
    length: number,
    position: number | null,
  ) {
    const call = ++counts.started;
    counts.running++;
    const read: Read = (asked = length) => real.call(this, buffer, offset, asked, position);
    return answer(call, read).finally(() => counts.running--);
  });
  return counts;
}

/** Every read but the first ends `ms` late, so that reads ahead are still under way. */
const laterReadsHeldBack =
  (ms: number) =>
  async (call: number, read: Read): Promise<{ bytesRead: number }> => {
    const result = await read();
    if (call > 1) await new Promise((resolve) => setTimeout(resolve, ms));
    return result;
  };

/** A file of random data, 4 × READS_AT_ONCE blocks long, in the test's folder. */
async function longFile(name: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, randomBytes(4 * READS_AT_ONCE * BUFFERED_READ_SIZE));
  return path;
}

/**
 * A reader of a long file that has yielded its first chunk, while its other reads are held back
 * 50 ms; `reads` counts them until restored.
 */
async function readerHoldingFirstChunk(name: string) {
  const reader = await FileReader.open(await longFile(name));
  const reads = spyOnReads(laterReadsHeldBack(50));
  const chunks = reader.chunks();
  await chunks.next();
  return { reader, reads, chunks };
}

/**
 * Makes every WebAssembly memory asked for from now on refused, as under a `ulimit -v` too small
 * for one, until the returned spy is restored (the project's TypeScript libs lack its types).
 */
function refuseAlignedMemory() {
  const wasm = (globalThis as unknown as { WebAssembly: { Memory: new () => unknown } })
    .WebAssembly;
  return jest.spyOn(wasm, "Memory").mockImplementation(() => {
    throw new RangeError("WebAssembly.Memory(): could not allocate memory");
  });
}

/**
 * Makes the reader's second read fail with EINVAL while it reads directly, as a device whose
 * logical blocks are larger than a page would; counts reads until restored.
 */
function refuseSecondDirectRead(reader: FileReader) {
  const refused = Object.assign(new Error("EINVAL: invalid argument, read"), { code: "EINVAL" });
  return spyOnReads((call, read) =>
    call === 2 && reader.mode === "direct" ? Promise.reject(refused) : read(),
  );
}

/** Whether O_DIRECT works for `path` the way FileReader asks for it (through /proc/self/fd). */
async function supportsDirect(path: string): Promise<boolean> {
  const plain = await open(path, "r");
  const flags = constants.O_RDONLY | constants.O_DIRECT;
  const file = await open(`/proc/self/fd/${plain.fd}`, flags).catch(() => null);
  await file?.close();
  await plain.close();
  return file !== null;
}

describe("FileReader", () => {
  it("reads a file that is mostly holes with O_DIRECT for a sparse upload, byte for byte", async () => {
    // An odd size, data in the middle and at the very end: the last read is short and unaligned.
    const size = 3 * DIRECT_READ_SIZE + 12_345;
    const path = await sparseFile("holes.img", size, [
      [DIRECT_READ_SIZE + 4096, 100_000],
      [size - 5000, 5000],
    ]);
    const reader = await FileReader.open(path, { sparse: true });
    expect(reader.size).toBe(size);
    expect(reader.mode).toBe((await supportsDirect(path)) ? "direct" : "buffered");
    expect((await readAll(reader)).equals(await readFile(path))).toBe(true);
  });

  it("reads through the page cache when the upload is not sparse, or the file is mostly data", async () => {
    const holes = await sparseFile("holes-dense-upload.img", 8 * MiB, [[0, 4096]]);
    const dense = join(dir, "dense.img");
    await writeFile(dense, randomBytes(5 * MiB + 7));
    const notSparse = await FileReader.open(holes);
    expect(notSparse.mode).toBe("buffered");
    await notSparse.close();
    const reader = await FileReader.open(dense, { sparse: true });
    expect(reader.mode).toBe("buffered");
    expect((await readAll(reader)).equals(await readFile(dense))).toBe(true);
  });

  it("reads a file for a plain upload four whole stream packets at a time", async () => {
    const path = join(dir, "packets.img");
    await writeFile(path, randomBytes(2 * BUFFERED_READ_SIZE + 10));
    expect(await chunkSizes(await FileReader.open(path))).toEqual([
      4 * STREAM_DATA_MAX,
      4 * STREAM_DATA_MAX,
      10,
    ]);
  });

  it("reads a mostly-data file for a sparse upload in whole granules of the hole scanner", async () => {
    const path = join(dir, "granules.img");
    await writeFile(path, randomBytes(2 * SCANNED_READ_SIZE + 10));
    const reader = await FileReader.open(path, { sparse: true });
    expect(reader.mode).toBe("buffered");
    expect(await chunkSizes(reader)).toEqual([SCANNED_READ_SIZE, SCANNED_READ_SIZE, 10]);
    expect(SCANNED_READ_SIZE % HOLE_GRANULE).toBe(0);
  });

  it("stops after `length` bytes, even in the middle of a block", async () => {
    const path = await sparseFile("limited.img", 2 * DIRECT_READ_SIZE, [[0, 10_000]]);
    const reader = await FileReader.open(path, { sparse: true });
    const bytes = await readAll(reader, DIRECT_READ_SIZE + 333);
    expect(bytes.equals((await readFile(path)).subarray(0, DIRECT_READ_SIZE + 333))).toBe(true);
  });

  it("yields every chunk as a view of one of a fixed set of buffers, read over and over", async () => {
    const path = join(dir, "views.img");
    await writeFile(path, randomBytes(3 * READS_AT_ONCE * BUFFERED_READ_SIZE));
    expect((await blocksRead(path)).size).toBe(READS_AT_ONCE);
  });

  it("reads ahead for two uploads at a time, and a third one block at a time until one is done", async () => {
    const opened = async (name: string) => FileReader.open(await longFile(name));
    const readers = await Promise.all([opened("first"), opened("second"), opened("third")]);
    const [first, second, third] = [readers[0].chunks(), readers[1].chunks(), readers[2].chunks()];
    const reads = spyOnReads(laterReadsHeldBack(50));
    try {
      await first.next();
      await second.next();
      expect(reads.started).toBe(2 * READS_AT_ONCE);
      await third.next();
      await third.next();
      expect(reads.started).toBe(2 * READS_AT_ONCE + 2);
      await first.return(undefined);
      await third.next();
      expect(reads.started).toBe(2 * READS_AT_ONCE + 2 + READS_AT_ONCE);
    } finally {
      reads.restore();
      await Promise.all([second.return(undefined), third.return(undefined)]);
      await Promise.all(readers.map((reader) => reader.close()));
    }
  });

  it("gives its read-ahead back when closed while it holds a chunk, for the next upload to read ahead", async () => {
    const readers = await Promise.all(
      ["a", "b", "c"].map(async (name) => FileReader.open(await longFile(`closed-early-${name}`))),
    );
    for (const reader of readers) {
      await reader.chunks().next(); // an upload that failed holding its first chunk
      await reader.close();
    }
    const path = join(dir, "after-closed.img");
    await writeFile(path, randomBytes(2 * READS_AT_ONCE * BUFFERED_READ_SIZE));
    expect((await blocksRead(path)).size).toBe(READS_AT_ONCE);
  });

  it("reads a file that is mostly holes directly to its end, reading ahead into aligned blocks", async () => {
    const path = await sparseFile("direct-ahead.img", 3 * READS_AT_ONCE * DIRECT_READ_SIZE, [
      [0, 4096],
    ]);
    const reader = await FileReader.open(path, { sparse: true });
    const expected = (await supportsDirect(path)) ? "direct" : "buffered";
    const modes = new Set<string>();
    const blocks = new Set<ArrayBufferLike>();
    for await (const chunk of reader.chunks()) {
      modes.add(`${reader.mode} ${chunk.length}`);
      blocks.add(chunk.buffer);
    }
    await reader.close();
    const blockSize = expected === "direct" ? DIRECT_READ_SIZE : SCANNED_READ_SIZE;
    expect([...modes]).toEqual([`${expected} ${blockSize}`]);
    expect(blocks.size).toBe(READS_AT_ONCE);
  });

  it("reads directly one block at a time where no aligned memory can be had, asking for it once", async () => {
    const path = await sparseFile("no-aligned.img", 3 * READS_AT_ONCE * DIRECT_READ_SIZE, [
      [0, 4096],
    ]);
    if (!(await supportsDirect(path))) return; // read buffered: no aligned memory is needed
    const reader = await FileReader.open(path, { sparse: true });
    const refused = refuseAlignedMemory();
    try {
      const blocks = new Set<ArrayBufferLike>();
      for await (const chunk of reader.chunks()) {
        expect(reader.mode).toBe("direct");
        expect(readAheadBlocksFree()).toBe(READ_AHEAD_BLOCKS);
        blocks.add(chunk.buffer);
      }
      expect(blocks.size).toBe(1);
      expect(refused).toHaveBeenCalledTimes(1);
    } finally {
      refused.mockRestore();
      await reader.close();
    }
  });

  it("never reads into a block another reader has read into, which a failed upload may still be sending", async () => {
    const path = join(dir, "blocks.img");
    await writeFile(path, randomBytes(2 * READS_AT_ONCE * BUFFERED_READ_SIZE));
    const earlier = await blocksRead(path);
    const later = await blocksRead(path);
    expect(later.size).toBe(READS_AT_ONCE);
    expect([...later].filter((block) => earlier.has(block))).toEqual([]);
  });

  it("reads the next blocks while the consumer still holds a chunk", async () => {
    const { reader, reads, chunks } = await readerHoldingFirstChunk("ahead.img");
    try {
      expect(reads.started).toBe(READS_AT_ONCE);
      await chunks.return(undefined);
      // Abandoned early: no read is left filling a buffer.
      expect(reads.running).toBe(0);
    } finally {
      reads.restore();
      await reader.close();
    }
  });

  it("closes only once the reads under way have ended, and reads nothing after", async () => {
    const { reader, reads, chunks } = await readerHoldingFirstChunk("closed.img");
    try {
      // An aborted upload closes its source while the upload still holds a chunk.
      await reader.close();
      expect(reads.running).toBe(0);
      await expect(chunks.next()).rejects.toThrow("the file was closed while it was being read");
      expect(reads.started).toBe(READS_AT_ONCE);
    } finally {
      reads.restore();
    }
  });

  it("goes on right after a short read, so no byte is skipped", async () => {
    const path = join(dir, "short.img");
    await writeFile(path, randomBytes(3 * BUFFERED_READ_SIZE + 5));
    // The first read gets fewer bytes than asked for, as a file still being written could give.
    const reads = spyOnReads((call, read) => read(call === 1 ? 1000 : undefined));
    const reader = await FileReader.open(path);
    try {
      expect((await readAll(reader)).equals(await readFile(path))).toBe(true);
    } finally {
      reads.restore();
    }
  });

  it("goes on buffered from where it stands when a direct read is refused (EINVAL)", async () => {
    const path = await sparseFile("refused.img", 3 * DIRECT_READ_SIZE, [
      [DIRECT_READ_SIZE + 1, 70_000],
    ]);
    const reader = await FileReader.open(path, { sparse: true });
    const reads = refuseSecondDirectRead(reader);
    try {
      expect((await readAll(reader)).equals(await readFile(path))).toBe(true);
      expect(reader.mode).toBe("buffered");
    } finally {
      reads.restore();
    }
  });

  it("after a refused direct read, reads on ahead in buffered blocks beside its aligned one", async () => {
    const size = 3 * DIRECT_READ_SIZE + 5000;
    const path = await sparseFile("refused-alone.img", size, [[DIRECT_READ_SIZE + 1, 70_000]]);
    const reader = await FileReader.open(path, { sparse: true });
    if (reader.mode !== "direct") return void (await reader.close()); // nothing to refuse
    // No aligned memory to read ahead into: the refusal finds the reader with its one block.
    const refusedMemory = refuseAlignedMemory();
    const reads = refuseSecondDirectRead(reader);
    try {
      const copies: Buffer[] = [];
      const blockSizesAfter = new Set<number>(); // of the blocks read buffered
      for await (const chunk of reader.chunks()) {
        copies.push(Buffer.from(chunk));
        if ((reader.mode as string) === "buffered") blockSizesAfter.add(chunk.buffer.byteLength);
      }
      expect(Buffer.concat(copies).equals(await readFile(path))).toBe(true);
      expect([...blockSizesAfter].sort()).toEqual([DIRECT_READ_SIZE, SCANNED_READ_SIZE].sort());
    } finally {
      reads.restore();
      refusedMemory.mockRestore();
      await reader.close();
    }
  });

  const shm = "/dev/shm";
  (existsSync(shm) ? it : it.skip)(
    "reads buffered where the file system refuses O_DIRECT (tmpfs before Linux 6.6)",
    async () => {
      const shmDir = await mkdtemp(join(shm, "vwtest-file-reader-"));
      try {
        const path = join(shmDir, "holes.img");
        const file = await open(path, "w");
        await file.write(Buffer.from("data"), 0, 4, 2 * MiB);
        await file.truncate(8 * MiB);
        await file.close();
        const reader = await FileReader.open(path, { sparse: true });
        expect(reader.mode).toBe((await supportsDirect(path)) ? "direct" : "buffered");
        expect((await readAll(reader)).equals(await readFile(path))).toBe(true);
      } finally {
        await rm(shmDir, { recursive: true, force: true });
      }
    },
  );

  it("reads the file it opened, even after its path was replaced", async () => {
    const path = await sparseFile("replaced.img", 2 * DIRECT_READ_SIZE, [[4096, 8192]]);
    const original = await readFile(path);
    const reader = await FileReader.open(path, { sparse: true });
    const other = join(dir, "other.img");
    await writeFile(other, randomBytes(1000));
    await rename(other, path);
    expect((await readAll(reader)).equals(original)).toBe(true);
  });

  it("reads a FIFO where it stands, as a stream", async () => {
    const fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    const data = randomBytes(3 * MiB);
    // Opening either end of a FIFO waits for the other; both opens run in libuv's thread pool.
    const [reader, writer] = await Promise.all([
      FileReader.open(fifo, { sparse: true }),
      open(fifo, "w"),
    ]);
    const writing = writer.write(data).then(() => writer.close());
    expect(reader.mode).toBe("buffered");
    const bytes = await readAll(reader);
    await writing;
    expect(bytes.equals(data)).toBe(true);
  });

  it("rejects a missing file with the open's error", async () => {
    await expect(FileReader.open(join(dir, "missing.img"))).rejects.toMatchObject({
      code: "ENOENT",
    });
  });
});
