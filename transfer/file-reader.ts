/**
 * Reading an upload's source file from start to end: a few blocks ahead of the consumer, into a
 * few buffers used over and over while it reads, and with O_DIRECT when the file is mostly holes.
 *
 * Memory: a reader holds one block of its own while it reads (1 MiB, or 4 MiB when it reads
 * directly), and reads ahead into blocks of a budget the whole process shares (READ_AHEAD_BLOCKS),
 * so a stack uploading many files at once holds one block per upload and a few more, not
 * READS_AT_ONCE blocks per upload. A buffered reader that only looks at the file's head (the
 * preflight) holds none.
 *
 * Why O_DIRECT: Node has no lseek(SEEK_DATA/SEEK_HOLE), so a sparse upload finds the holes by
 * reading them (hole-scanner.ts). A buffered read of a hole makes the kernel allocate and zero a
 * page-cache page for every 4 KiB of it: 2 GiB of never-read holes took 0.3–5 s on the test bed
 * and pushed 2 GiB of useful pages out of the cache. A direct read of a hole only zero-fills our
 * buffer (0.1 s for 2 GiB, every time) and leaves the cache alone. Direct reads of data come from
 * the disk, not from the cache, so a file that is mostly data is read buffered.
 *
 * O_DIRECT needs the buffer's address, the file offset and the length aligned to the device's
 * logical block size (512 or 4096 bytes). Direct offsets and lengths are multiples of
 * DIRECT_READ_SIZE (only a short read at the end of the file can leave the next offset unaligned,
 * and a read refused there falls back as below); the buffers are a WebAssembly memory, whose
 * storage V8 maps page-aligned (an ordinary Buffer is only 16-byte aligned). If a file system
 * refuses O_DIRECT anyway (tmpfs does at open, EINVAL), the reader falls back to buffered reads
 * where it stands, into the blocks it has and, to read further ahead, blocks of the buffered size.
 */
import { constants } from "node:fs";
import { open } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { STREAM_DATA_MAX } from "../rpc/internal";
import { HOLE_GRANULE } from "./hole-scanner";

/**
 * Bytes per direct read (a file that is mostly holes): large reads halve the per-read cost of
 * going through holes, and 4 MiB is a multiple of any logical block size.
 */
export const DIRECT_READ_SIZE = 4 * 1024 * 1024;
/**
 * Bytes per read through the page cache for a plain upload: four stream packets' worth, so a block
 * goes out as whole packets. Copying a file out of the page cache into 4 MiB blocks cost twice what
 * copying the same bytes into the socket did (perhaps because the blocks outgrow the CPU's caches):
 * a 1 GiB upload takes 0.87 s with these reads instead of 0.92 s with 4 MiB ones, as a whole
 * process (medians of 15 interleaved runs), and holds a quarter of the memory; reads of two
 * packets were 1.04× slower (11 runs).
 */
export const BUFFERED_READ_SIZE = 4 * STREAM_DATA_MAX;
/**
 * Bytes per read through the page cache for a sparse upload, whose content the hole scanner cuts
 * into granules counted from the volume's start: whole granules (1 MiB), since a granule split
 * between two reads is copied and, holding data, goes out as an extent of its own.
 */
export const SCANNED_READ_SIZE = 16 * HOLE_GRANULE;

/** Bytes per read through the page cache for a sparse or a plain upload. */
export function bufferedReadSize(sparse: boolean): number {
  return sparse ? SCANNED_READ_SIZE : BUFFERED_READ_SIZE;
}
/**
 * Reads kept going at once, each into a buffer of its own: the next blocks are read while the
 * consumer sends or scans the last one, and holes, whose reads are the kernel zeroing our memory,
 * are read on more than one core. A process uploading 2 GiB with 8 MiB of data took 0.28 s
 * instead of 0.30 s with one read at a time, one uploading 1 GiB of data 1.25 s instead of 1.30 s
 * (medians of 9 and 7); larger or more buffers read and scanned holes no faster (they outgrow the
 * CPU's caches).
 */
export const READS_AT_ONCE = 3;
/**
 * Blocks read ahead, beyond each reader's own, in the whole process at once: two uploads at a time
 * read READS_AT_ONCE blocks; more at once read one block at a time (as fast, but without the
 * overlap), until one of the first is done.
 */
export const READ_AHEAD_BLOCKS = 2 * (READS_AT_ONCE - 1);
/** How many of READ_AHEAD_BLOCKS no reader holds now. */
let readAheadLeft = READ_AHEAD_BLOCKS;

/** For tests: READ_AHEAD_BLOCKS again once every reader is done. */
export function readAheadBlocksFree(): number {
  return readAheadLeft;
}

/** Size of a WebAssembly memory page. */
const WASM_PAGE = 64 * 1024;

/** The one WebAssembly API used here (the project's TypeScript libs have no WebAssembly types). */
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number; maximum: number }) => { buffer: ArrayBuffer };
};

export interface FileReaderOptions {
  /**
   * The content is going out as a sparse stream, so its holes will be read only to be skipped:
   * read a file that is mostly holes with O_DIRECT, and any other in whole granules of the hole
   * scanner (SCANNED_READ_SIZE).
   */
  sparse?: boolean;
}

export class FileReader {
  /** Set by `close`: no read starts after it. */
  private closing = false;
  /** The reads under way, which `close` waits for. */
  private readonly running = new Set<Promise<unknown>>();
  /** The blocks this reader reads into: its own first, then those taken from READ_AHEAD_BLOCKS. */
  private readonly blocks: Buffer[] = [];
  /**
   * No aligned memory could be had for a block: not asked again, since V8 collects garbage
   * several times over before it refuses a WebAssembly memory.
   */
  private alignedMemoryRefused = false;

  private constructor(
    /** Always open: read through when not direct, and what a refused direct read falls back to. */
    private readonly buffered: FileHandle,
    /** The same file opened again with O_DIRECT, while direct reads work. */
    private direct: FileHandle | undefined,
    /** The file's size when opened. */
    readonly size: number,
    /** A regular file, read at explicit offsets; a FIFO or device is read where it stands. */
    private readonly seekable: boolean,
    /** Bytes per read through the page cache (SCANNED_READ_SIZE or BUFFERED_READ_SIZE). */
    private readonly bufferedReadSize: number,
  ) {}

  /** Opens `path`; a missing or unreadable file rejects with the open's own error (ENOENT, …). */
  static async open(path: string, options: FileReaderOptions = {}): Promise<FileReader> {
    const buffered = await open(path, "r");
    try {
      const stats = await buffered.stat();
      const { size, blocks } = stats;
      // st_blocks counts 512-byte units on Linux, whatever the file system's block size.
      const mostlyHoles = stats.isFile() && size > 0 && blocks * 512 <= size / 2;
      // Direct reads need an aligned buffer: without one, the file is read buffered.
      const aligned = options.sparse && mostlyHoles ? alignedBuffer(DIRECT_READ_SIZE) : undefined;
      const direct = aligned ? await openDirect(buffered) : undefined;
      const readSize = bufferedReadSize(options.sparse ?? false);
      const reader = new FileReader(buffered, direct, size, stats.isFile(), readSize);
      if (direct) reader.blocks.push(aligned!);
      return reader;
    } catch (error) {
      await buffered.close();
      throw error;
    }
  }

  /** How the file is being read: "direct" (O_DIRECT) or "buffered" (through the page cache). */
  get mode(): "direct" | "buffered" {
    return this.direct ? "direct" : "buffered";
  }

  /**
   * The file's bytes from the start, up to `length` of them (0: to the end). Every chunk is a view
   * of one of the reader's buffers, valid until the next chunk is asked for.
   */
  async *chunks(length = 0): AsyncGenerator<Buffer> {
    const end = length > 0 ? length : Infinity;
    // A FIFO's reads take what is there and cannot be redone: one at a time, and never ahead.
    const inFlight = this.seekable ? READS_AT_ONCE : 1;
    // A direct reader got its (aligned) block at open.
    if (this.blocks.length === 0) this.blocks.push(Buffer.allocUnsafeSlow(this.bufferedReadSize));
    const free = [...this.blocks];
    const reads: PendingRead[] = [];
    let next = 0; // where the next read starts
    const settleAll = async () => {
      await Promise.all(reads.map((read) => read.result));
      free.push(...reads.splice(0).map((read) => read.buffer));
    };
    try {
      for (let position = 0; position < end;) {
        if (this.closing) throw new Error("the file was closed while it was being read");
        while (reads.length < inFlight && next < end) {
          const buffer = free.pop() ?? this.takeReadAheadBlock();
          if (!buffer) break;
          reads.push(this.startRead(buffer, next));
          next += buffer.length;
        }
        const read = reads.shift()!;
        const result = await read.result;
        free.push(read.buffer); // yielded below, but only ever refilled after the next ask
        if ("error" in result) {
          const refused = read.direct && (result.error as NodeJS.ErrnoException).code === "EINVAL";
          if (!refused) throw result.error;
          // Redo this read and those after it through the page cache.
          await settleAll();
          await this.stopDirectReads();
          next = position;
          continue;
        }
        const { bytesRead } = result;
        if (bytesRead === 0) return;
        if (bytesRead < read.buffer.length) {
          // A short read: the file ended here (or a FIFO gave what it had). Reads started further
          // on are dropped and the next starts right after these bytes, as a lone reader's would,
          // so a file that grows meanwhile is still read without a gap.
          await settleAll();
          next = position + bytesRead;
        }
        const chunk = read.buffer.subarray(0, Math.min(bytesRead, end - position));
        position += chunk.length;
        yield chunk;
      }
    } finally {
      // No read may still be filling a buffer once the consumer is gone or the file is closed.
      await settleAll();
      this.returnReadAheadBlocks();
    }
  }

  /**
   * One more block to read ahead into, if the reader and the process may have it. A direct reader
   * that gets no aligned memory reads one block at a time rather than through the page cache.
   */
  private takeReadAheadBlock(): Buffer | undefined {
    if (this.blocks.length >= READS_AT_ONCE || readAheadLeft === 0) return undefined;
    if (this.direct && this.alignedMemoryRefused) return undefined;
    const block = this.direct
      ? alignedBuffer(DIRECT_READ_SIZE)
      : Buffer.allocUnsafeSlow(this.bufferedReadSize);
    if (!block) {
      this.alignedMemoryRefused = true;
      return undefined;
    }
    readAheadLeft--;
    this.blocks.push(block);
    return block;
  }

  /**
   * Gives the blocks read ahead into back to the budget. The memory itself is left to the garbage
   * collector, never handed to another reader: the transport may still be writing the last chunk
   * of an upload that failed.
   */
  private returnReadAheadBlocks(): void {
    readAheadLeft += this.blocks.splice(1).length;
  }

  /** Starts reading the buffer's worth of the file at `position`; never rejects. */
  private startRead(buffer: Buffer, position: number): PendingRead {
    const direct = this.direct;
    const handle = direct ?? this.buffered;
    // Always a whole buffer (O_DIRECT wants aligned lengths); a limit cuts the chunk instead.
    const at = this.seekable ? position : null;
    const result = handle.read(buffer, 0, buffer.length, at).then(
      ({ bytesRead }) => ({ bytesRead }),
      (error: unknown) => ({ error }),
    );
    this.running.add(result);
    void result.then(() => this.running.delete(result));
    return { buffer, direct: direct !== undefined, result };
  }

  /** The file's first `length` bytes (fewer for a shorter file), read through the page cache. */
  async head(length: number): Promise<Buffer> {
    const head = Buffer.alloc(length);
    const { bytesRead } = await this.buffered.read(head, 0, length, 0);
    return head.subarray(0, bytesRead);
  }

  /**
   * Closes the file once the reads under way have ended. A `chunks` still being consumed (an
   * upload aborted while it waited) then fails rather than read on.
   */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.running);
    this.returnReadAheadBlocks(); // a `chunks` abandoned without being ended
    await this.stopDirectReads();
    await this.buffered.close();
  }

  private async stopDirectReads(): Promise<void> {
    const direct = this.direct;
    this.direct = undefined;
    await direct?.close().catch(() => undefined);
  }
}

/** A read under way: the buffer it fills, whether it is direct, and how it ended. */
interface PendingRead {
  buffer: Buffer;
  direct: boolean;
  result: Promise<{ bytesRead: number } | { error: unknown }>;
}

/**
 * The file behind `file` opened again with O_DIRECT, or undefined where that is refused. Through
 * /proc/self/fd, so it is the same file even if its path has been replaced meanwhile.
 */
async function openDirect(file: FileHandle): Promise<FileHandle | undefined> {
  if (constants.O_DIRECT === undefined) return undefined;
  const flags = constants.O_RDONLY | constants.O_DIRECT;
  return open(`/proc/self/fd/${file.fd}`, flags).catch(() => undefined);
}

/**
 * `size` bytes (a multiple of 64 KiB) at a page-aligned address, or undefined where no WebAssembly
 * memory can be had (V8 reserves gigabytes of address space for one; a ulimit -v may refuse that).
 */
function alignedBuffer(size: number): Buffer | undefined {
  try {
    const pages = size / WASM_PAGE;
    return Buffer.from(new WebAssembly.Memory({ initial: pages, maximum: pages }).buffer, 0, size);
  } catch {
    return undefined;
  }
}
