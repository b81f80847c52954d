/**
 * Volume upload and download against the test bed daemon: a dense 1 GiB file and a 2 GiB sparse
 * file make the round trip through a dir pool in a temporary directory, byte for byte, and the
 * sparse one stays sparse on the daemon's side and on ours. Throughput is printed.
 *
 * VIRTWIRE_STREAM_DENSE_MIB / VIRTWIRE_STREAM_SPARSE_MIB shrink the files for a quick run.
 * An upload past its declared length runs against a private daemon instead
 * (volume-stream-overrun.test.ts): it crashes libvirtd 11.3.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, open, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { Libvirt, RemoteNonnullStoragePool, RemoteNonnullStorageVol } from "../../rpc/internal";
import { downloadVolume, uploadVolume } from "../../transfer";
import { connectTestbed, dirPoolXml, uniqueName } from "../support/testbed";

const MiB = 1024 * 1024;
const DENSE_SIZE = Number(process.env.VIRTWIRE_STREAM_DENSE_MIB ?? 1024) * MiB;
const SPARSE_SIZE = Number(process.env.VIRTWIRE_STREAM_SPARSE_MIB ?? 2048) * MiB;
/** Where the sparse file holds data: [offset, length]; the rest is holes, the end included. */
const SPARSE_DATA: [number, number][] = [
  [0, 1 * MiB],
  [Math.floor(SPARSE_SIZE * 0.15) + 12345, 4 * MiB],
  [Math.floor(SPARSE_SIZE / 2) + 64 * 1024, 2 * MiB],
  [Math.floor(SPARSE_SIZE * 0.75), 1 * MiB + 7],
];
const SPARSE_DATA_BYTES = SPARSE_DATA.reduce((sum, [, length]) => sum + length, 0);

jest.setTimeout(15 * 60 * 1000);

describe("volume streams against the test bed daemon", () => {
  let lv: Libvirt;
  let dir: string;
  let pool: RemoteNonnullStoragePool;

  beforeAll(async () => {
    lv = await connectTestbed();
    dir = await mkdtemp(join(tmpdir(), "vwtest-streams-"));
    await mkdir(join(dir, "pool"));
    const name = uniqueName("streams");
    ({ pool } = await lv.StoragePoolCreateXML({
      xml: dirPoolXml(name, `${dir}/pool`),
      flags: 0,
    }));
  });

  afterAll(async () => {
    if (pool) {
      const { vols } = await lv.StoragePoolListAllVolumes({ pool, need_results: 1, flags: 0 });
      for (const vol of vols) await lv.StorageVolDelete({ vol, flags: 0 });
      await lv.StoragePoolDestroy({ pool }); // a transient pool: gone once stopped
    }
    await lv?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function createVolume(name: string, capacity: number): Promise<RemoteNonnullStorageVol> {
    const xml =
      `<volume><name>${name}</name><capacity unit='bytes'>${capacity}</capacity>` +
      `<allocation unit='bytes'>0</allocation><target><format type='raw'/></target></volume>`;
    return (await lv.StorageVolCreateXML({ pool, xml, flags: 0 })).vol;
  }

  /**
   * Runs a transfer, prints its throughput and the most Buffer memory in use meanwhile, and checks
   * that memory stayed far below the transfer's size (nothing is buffered whole).
   */
  async function timed<T extends { bytes: number; dataBytes: number }>(
    what: string,
    run: () => Promise<T>,
  ) {
    const base = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
    }, 20);
    const start = process.hrtime.bigint();
    const result = await run().finally(() => clearInterval(sampler));
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(
      `${what}: ${(result.bytes / MiB).toFixed(0)} MiB in ${seconds.toFixed(2)} s = ` +
        `${(result.bytes / MiB / seconds).toFixed(0)} MiB/s; ` +
        `peak Buffer memory +${(peak / MiB).toFixed(0)} MiB`,
    );
    if (result.dataBytes >= 512 * MiB) expect(peak).toBeLessThan(result.dataBytes / 4);
    return result;
  }

  it("uploads and downloads a dense file byte for byte", async () => {
    const source = join(dir, "dense-source.raw");
    const sourceHash = await writeDenseFile(source, DENSE_SIZE);
    const vol = await createVolume("dense.raw", DENSE_SIZE);

    const progress: number[] = [];
    const up = await timed("dense upload", () =>
      uploadVolume(lv, vol, source, { onProgress: ({ bytes }) => progress.push(bytes) }),
    );
    expect(up).toEqual({ bytes: DENSE_SIZE, dataBytes: DENSE_SIZE, holeBytes: 0 });
    expect(progress[progress.length - 1]).toBe(DENSE_SIZE);
    await rm(source);

    const info = await lv.StorageVolGetInfo({ vol });
    expect(info.capacity).toBe(BigInt(DENSE_SIZE));

    const target = join(dir, "dense-download.raw");
    let total: number | undefined;
    const down = await timed("dense download", () =>
      downloadVolume(lv, vol, target, { onProgress: (p) => (total = p.total) }),
    );
    expect(down).toEqual({ bytes: DENSE_SIZE, dataBytes: DENSE_SIZE, holeBytes: 0 });
    expect(total).toBe(DENSE_SIZE);
    expect(await hashFile(target)).toBe(sourceHash);
    await rm(target);
    await lv.StorageVolDelete({ vol, flags: 0 });
  });

  it("uploads and downloads a sparse file as holes, and both copies stay sparse", async () => {
    const source = join(dir, "sparse-source.raw");
    const sourceHash = await writeSparseFile(source);
    const vol = await createVolume("sparse.raw", SPARSE_SIZE);

    const up = await timed("sparse upload", () => uploadVolume(lv, vol, source, { sparse: true }));
    expect(up.bytes).toBe(SPARSE_SIZE);
    expect(up.dataBytes).toBeLessThan(SPARSE_DATA_BYTES + 8 * 64 * 1024);
    expect(up.holeBytes).toBe(SPARSE_SIZE - up.dataBytes);

    const info = await lv.StorageVolGetInfo({ vol });
    expect(info.capacity).toBe(BigInt(SPARSE_SIZE));
    expect(Number(info.allocation)).toBeLessThan(SPARSE_DATA_BYTES + 4 * MiB);

    const target = join(dir, "sparse-download.raw");
    const down = await timed("sparse download", () =>
      downloadVolume(lv, vol, target, { sparse: true }),
    );
    expect(down.bytes).toBe(SPARSE_SIZE);
    expect(down.holeBytes).toBeGreaterThan(SPARSE_SIZE - SPARSE_DATA_BYTES - 4 * MiB);
    const downloaded = await stat(target);
    expect(downloaded.size).toBe(SPARSE_SIZE);
    expect(downloaded.blocks * 512).toBeLessThan(SPARSE_DATA_BYTES + 4 * MiB);
    expect(await hashFile(target)).toBe(sourceHash);
    await rm(target);

    // Without the sparse flag the daemon sends every zero as data.
    const hash = createHash("sha256");
    const dense = await timed("sparse volume, dense download to a stream", () =>
      downloadVolume(lv, vol, hashSink(hash)),
    );
    expect(dense).toEqual({ bytes: SPARSE_SIZE, dataBytes: SPARSE_SIZE, holeBytes: 0 });
    expect(hash.digest("hex")).toBe(sourceHash);

    // A sparse upload from a byte stream finds the holes by content as well.
    const fromStream = await createVolume("sparse-from-stream.raw", SPARSE_SIZE);
    const streamed = await timed("sparse upload from a stream", () =>
      uploadVolume(lv, fromStream, createReadStream(source, { highWaterMark: MiB }), {
        sparse: true,
      }),
    );
    expect(streamed).toEqual(up);
    const streamedInfo = await lv.StorageVolGetInfo({ vol: fromStream });
    expect(Number(streamedInfo.allocation)).toBeLessThan(SPARSE_DATA_BYTES + 4 * MiB);
    await rm(source);
  });

  it("uploads twelve files at once over one connection, each byte for byte, without a warning", async () => {
    // A stack's volumes are created in parallel, and all of one host's share its connection.
    // Node.js writes its warnings (a listener leak: MaxListenersExceededWarning) to stderr.
    const warnings: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    const stderr = jest.spyOn(process.stderr, "write").mockImplementation((chunk, ...rest) => {
      if (String(chunk).includes("Warning")) warnings.push(String(chunk));
      return write(chunk, ...(rest as []));
    });
    try {
      const files = await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const path = join(dir, `many-${i}.raw`);
          const hash = await writeDenseFile(path, 16 * MiB + i * 4096);
          const vol = await createVolume(`many-${i}.raw`, 16 * MiB + i * 4096);
          return { path, hash, vol };
        }),
      );
      await Promise.all(files.map(({ path, vol }) => uploadVolume(lv, vol, path)));
      for (const { path, hash, vol } of files) {
        await downloadVolume(lv, vol, `${path}.back`);
        expect(await hashFile(`${path}.back`)).toBe(hash);
        await lv.StorageVolDelete({ vol, flags: 0 });
        await rm(path);
        await rm(`${path}.back`);
      }
      expect(warnings).toEqual([]);
    } finally {
      stderr.mockRestore();
    }
  });

  it("aborts an upload on request and leaves the connection usable", async () => {
    const vol = await createVolume("aborted.raw", 64 * MiB);
    const controller = new AbortController();
    let sent = 0;
    async function* endless() {
      for (;;) {
        yield randomBytes(MiB);
        sent += MiB;
        if (sent === 8 * MiB) controller.abort(new Error("enough"));
      }
    }
    await expect(uploadVolume(lv, vol, endless(), { signal: controller.signal })).rejects.toThrow(
      "enough",
    );
    await expect(lv.StorageVolGetInfo({ vol })).resolves.toMatchObject({
      capacity: BigInt(64 * MiB),
    });
  });
});

/** A file of distinct 1 MiB blocks (a random block stamped with its index); returns its sha256. */
async function writeDenseFile(path: string, size: number): Promise<string> {
  const block = randomBytes(MiB);
  const hash = createHash("sha256");
  const file = await open(path, "w");
  try {
    for (let offset = 0; offset < size; offset += MiB) {
      block.writeUInt32BE(offset / MiB, 0);
      const piece = block.subarray(0, Math.min(MiB, size - offset));
      hash.update(piece);
      await file.write(piece, 0, piece.length, offset);
    }
  } finally {
    await file.close();
  }
  return hash.digest("hex");
}

/** The sparse source: random data at SPARSE_DATA, holes elsewhere; returns its sha256. */
async function writeSparseFile(path: string): Promise<string> {
  const file = await open(path, "w");
  try {
    for (const [offset, length] of SPARSE_DATA)
      await file.write(randomBytes(length), 0, length, offset);
    await file.truncate(SPARSE_SIZE);
  } finally {
    await file.close();
  }
  return hashFile(path);
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB })) hash.update(chunk);
  return hash.digest("hex");
}

function hashSink(hash: ReturnType<typeof createHash>): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback();
    },
  });
}
