/**
 * The virtwire side of bench/compare.ts. Each measurement runs in a process of its own, so the
 * peak RSS it reports belongs to that measurement alone; bench/python/libvirt_bench.py is its
 * libvirt-python twin and takes the same arguments.
 *
 *   node virtwire-worker.js calls  '{"uri":"qemu:///system","op":"libversion","count":20000,"inflight":1}'
 *   node virtwire-worker.js upload '{"uri":"qemu:///system","pool":"…","volume":"…","file":"…","sparse":false}'
 *
 * An upload job with `volumes` uploads the file into each of them at once, on one connection.
 *
 * Prints one JSON line (see WorkerResult in compare.ts).
 */
import { ErrorCode, Libvirt, LibvirtError } from "../rpc/internal";
import { uploadVolume } from "../transfer";

interface CallsJob {
  uri: string;
  op: CallOp;
  count: number;
  inflight: number;
  warmup: number;
}

interface UploadJob {
  uri: string;
  pool: string;
  volume: string;
  /** Upload into all of these at once instead (`volume` is the first). */
  volumes?: string[];
  file: string;
  sparse: boolean;
}

export type CallOp = "libversion" | "lookup-missing" | "capabilities";

/** A domain name nobody uses: looking it up fails with VIR_ERR_NO_DOMAIN. */
export const MISSING_DOMAIN = "vwtest-bench-no-such-domain";

async function calls(job: CallsJob): Promise<Record<string, number>> {
  const lv = await Libvirt.connect(job.uri);
  try {
    const op = operation(lv, job.op);
    for (let i = 0; i < job.warmup; i++) await op();
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: job.inflight }, async (_, worker) => {
        for (let n = share(job.count, job.inflight, worker); n > 0; n--) await op();
      }),
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const used = process.cpuUsage(cpu);
    return { seconds, count: job.count, cpuSeconds: (used.user + used.system) / 1e6 };
  } finally {
    await lv.close();
  }
}

function operation(lv: Libvirt, op: CallOp): () => Promise<unknown> {
  switch (op) {
    case "libversion":
      return () => lv.ConnectGetLibVersion();
    case "capabilities":
      return () => lv.ConnectGetCapabilities();
    case "lookup-missing":
      return () =>
        lv.DomainLookupByName({ name: MISSING_DOMAIN }).then(
          () => {
            throw new Error(`a domain named ${MISSING_DOMAIN} exists`);
          },
          (error: unknown) => {
            if (!(error instanceof LibvirtError) || error.code !== ErrorCode.NO_DOMAIN) throw error;
          },
        );
  }
}

/** Calls worker `index` of `workers` makes, so that all of them make `count`. */
function share(count: number, workers: number, index: number): number {
  return Math.floor(count / workers) + (index < count % workers ? 1 : 0);
}

async function upload(job: UploadJob): Promise<Record<string, number>> {
  const lv = await Libvirt.connect(job.uri);
  let sampledPeak = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    sampledPeak = Math.max(sampledPeak, process.memoryUsage.rss());
  }, 20);
  try {
    const { pool } = await lv.StoragePoolLookupByName({ name: job.pool });
    const vols = await Promise.all(
      (job.volumes ?? [job.volume]).map(
        async (name) => (await lv.StorageVolLookupByName({ pool, name })).vol,
      ),
    );
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    const results = await Promise.all(
      vols.map((vol) => uploadVolume(lv, vol, job.file, { sparse: job.sparse })),
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const sum = (key: "bytes" | "dataBytes") => results.reduce((total, r) => total + r[key], 0);
    const used = process.cpuUsage(cpu);
    return {
      seconds,
      bytes: sum("bytes"),
      dataBytes: sum("dataBytes"),
      cpuSeconds: (used.user + used.system) / 1e6,
      sampledPeakRssKiB: Math.round(Math.max(sampledPeak, process.memoryUsage.rss()) / 1024),
    };
  } finally {
    clearInterval(sampler);
    await lv.close();
  }
}

async function main(): Promise<void> {
  const [mode, json] = process.argv.slice(2);
  if (!json || (mode !== "calls" && mode !== "upload")) {
    throw new Error("usage: virtwire-worker.js calls|upload '<job as JSON>'");
  }
  const result = mode === "calls" ? await calls(JSON.parse(json)) : await upload(JSON.parse(json));
  // maxRSS covers the whole life of the process, start-up and connection included.
  console.log(JSON.stringify({ ...result, maxRssKiB: process.resourceUsage().maxRSS }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
