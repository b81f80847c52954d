/**
 * Volume upload/download throughput against the test bed daemon, dense and sparse, to a file and
 * to a null sink. Each figure is the best of ROUNDS runs (the first upload into a fresh volume also
 * pays for block allocation on the daemon's side).
 *
 *   npx tsc -p . --outDir /tmp/vw-bench && node /tmp/vw-bench/bench/volume-stream.bench.js
 *
 * VIRTWIRE_BENCH_MIB (default 1024) sets the dense size; the sparse file is twice that with 8 MiB
 * of data. Compare with `virsh vol-upload` / `vol-download` on the same files.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { RemoteNonnullStorageVol } from "../rpc/internal";
import { TransferResult, downloadVolume, uploadVolume } from "../transfer";
import { connectTestbed, uniqueName } from "../test/support/testbed";

const MiB = 1024 * 1024;
const SIZE = Number(process.env.VIRTWIRE_BENCH_MIB ?? 1024) * MiB;
const ROUNDS = Number(process.env.VIRTWIRE_BENCH_ROUNDS ?? 3);

async function main(): Promise<void> {
  const lv = await connectTestbed();
  const dir = await mkdtemp(join(tmpdir(), "vwtest-bench-"));
  await mkdir(join(dir, "pool"));
  const { pool } = await lv.StoragePoolCreateXML({
    xml: `<pool type='dir'><name>${uniqueName("bench")}</name><target><path>${dir}/pool</path></target></pool>`,
    flags: 0,
  });
  const createVolume = async (name: string, capacity: number) =>
    (
      await lv.StorageVolCreateXML({
        pool,
        xml: `<volume><name>${name}</name><capacity unit='bytes'>${capacity}</capacity><allocation>0</allocation></volume>`,
        flags: 0,
      })
    ).vol;
  try {
    const dense = join(dir, "dense.raw");
    const sparse = join(dir, "sparse.raw");
    await writeFile(dense, SIZE, [[0, SIZE]]);
    await writeFile(sparse, 2 * SIZE, [
      [SIZE / 4, 4 * MiB],
      [SIZE + 12345, 4 * MiB],
    ]);
    const denseVol = await createVolume("dense.raw", SIZE);
    const sparseVol = await createVolume("sparse.raw", 2 * SIZE);
    const target = join(dir, "download.raw");

    await measure("dense upload from a file", () => uploadVolume(lv, denseVol, dense));
    await measure("dense download to a file", () => downloadVolume(lv, denseVol, target));
    await measure("dense download to a null sink", () => downloadVolume(lv, denseVol, nullSink()));
    await measure("sparse upload from a file", () =>
      uploadVolume(lv, sparseVol, sparse, { sparse: true }),
    );
    await measure("sparse download to a file", () =>
      downloadVolume(lv, sparseVol, target, { sparse: true }),
    );
    await measure("sparse volume, dense download to a null sink", () =>
      downloadVolume(lv, sparseVol, nullSink()),
    );
    await measure("dense file uploaded with the sparse flag", () =>
      uploadVolume(lv, denseVol, dense, { sparse: true }),
    );
    for (const vol of [denseVol, sparseVol] as RemoteNonnullStorageVol[]) {
      await lv.StorageVolDelete({ vol, flags: 0 });
    }
  } finally {
    await lv.StoragePoolDestroy({ pool }).catch(() => undefined);
    await lv.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function measure(what: string, run: () => Promise<TransferResult>): Promise<void> {
  let best = Infinity;
  let result: TransferResult | undefined;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    result = await run();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  }
  const { bytes, dataBytes } = result!;
  console.log(
    `${what.padEnd(48)} ${(bytes / MiB).toFixed(0).padStart(5)} MiB ` +
      `(${(dataBytes / MiB).toFixed(0)} MiB data) in ${best.toFixed(2)} s = ` +
      `${(bytes / MiB / best).toFixed(0)} MiB/s`,
  );
}

async function writeFile(path: string, size: number, extents: [number, number][]): Promise<void> {
  const block = randomBytes(MiB);
  const file = await open(path, "w");
  for (const [offset, length] of extents) {
    for (let done = 0; done < length; done += MiB) {
      block.writeUInt32BE(done / MiB, 0);
      await file.write(block, 0, Math.min(MiB, length - done), offset + done);
    }
  }
  await file.truncate(size);
  await file.close();
}

function nullSink(): Writable {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
