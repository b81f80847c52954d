/**
 * virtwire and libvirt-python side by side, in one run, against the same daemon: calls per second
 * one at a time and with 32 in flight on one connection, dense and sparse volume uploads, and peak
 * RSS, including during a 4 GiB upload and during several uploads at once (VWBENCH_AT_ONCE; those
 * two of virtwire only). Prints figures and PASS/MISS for issue 3's and issue 17's targets; it never
 * fails because a target is missed (benchmarks are not tests). Run it with `bash bench/run.sh`.
 *
 * Every measurement runs in a fresh process (bench/virtwire-worker.ts, bench/python/
 * libvirt_bench.py), so each peak RSS is that measurement's own. The two sides alternate within a
 * round, and which goes first alternates between rounds, so a load spike from the other users of
 * the machine hits both; each figure is the median of the rounds (targets are judged on it), with
 * the best run and every run printed too.
 * Uploads go into a fresh volume of a temporary dir pool each time; the pool, its volumes and the
 * data files (all named vwtest-bench-…) are removed at the end, also after a failure or Ctrl-C.
 */
import { ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, open, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Libvirt, RemoteNonnullStoragePool } from "../rpc";
import type { CallOp } from "./virtwire-worker";

const MiB = 1024 * 1024;
const env = (name: string, fallback: number) => Number(process.env[`VWBENCH_${name}`] ?? fallback);
const URI = process.env.VWBENCH_URI ?? "qemu:///system";
const PYTHON = process.env.VWBENCH_PYTHON ?? "/usr/bin/python3";
const PYTHON_SCRIPT =
  process.env.VWBENCH_PYTHON_SCRIPT ?? join(process.cwd(), "bench/python/libvirt_bench.py");
const ROUNDS = env("ROUNDS", 5);
const CALLS = env("CALLS", 20_000);
const CAPS_CALLS = env("CAPS_CALLS", 2_000);
const INFLIGHT = env("INFLIGHT", 32);
/** Calls made before timing starts, so V8 has compiled the hot path (Python needs none). */
const WARMUP = env("WARMUP", 2_000);
const DENSE_MIB = env("DENSE_MIB", 1024);
const SPARSE_MIB = env("SPARSE_MIB", 2048);
const BIG_MIB = env("BIG_MIB", 4096);
const BIG_ROUNDS = env("BIG_ROUNDS", 1);
/** Uploads at once on one connection, as a stack's volumes are created (0: not measured). */
const AT_ONCE = env("AT_ONCE", 12);
const AT_ONCE_MIB = env("AT_ONCE_MIB", 256);
const RSS_LIMIT_MIB = 150;

type Side = "virtwire" | "python";

interface WorkerResult {
  seconds: number;
  count?: number;
  bytes?: number;
  dataBytes?: number;
  cpuSeconds: number;
  maxRssKiB: number;
  sampledPeakRssKiB?: number;
}

interface Measurement {
  key: string;
  label: string;
  mode: "calls" | "upload";
  sides: Side[];
  rounds: number;
  job: Record<string, unknown>;
  /** Uploads: the file, whose size is the new volume's capacity. */
  file?: { path: string; size: number };
  /** Uploads: how many volumes get the file at once (default 1). */
  copies?: number;
  /**
   * Write the file afresh before each run: reading a hole of a sparse file nobody has read yet
   * fills the page cache with zeros, which costs far more than reading them again. A freshly
   * made image is in that state.
   */
  fresh?: () => Promise<void>;
}

let running: ChildProcess | undefined;

function runWorker(side: Side, mode: string, job: Record<string, unknown>): Promise<WorkerResult> {
  const [command, script] =
    side === "virtwire"
      ? [process.execPath, join(__dirname, "virtwire-worker.js")]
      : [PYTHON, PYTHON_SCRIPT];
  return new Promise((resolve, reject) => {
    const child = spawn(command, [script, mode, JSON.stringify(job)], { stdio: "pipe" });
    running = child;
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      running = undefined;
      if (code === 0) return resolve(JSON.parse(stdout.trim().split("\n").pop()!) as WorkerResult);
      reject(
        new Error(
          `${side} ${mode} ${JSON.stringify(job)} ended with ${code ?? signal}:\n${stderr}`,
        ),
      );
    });
  });
}

/** Reads a file once, so that its pages (a sparse file's holes too) are in the page cache. */
async function readThrough(path: string): Promise<void> {
  const file = await open(path, "r");
  try {
    const buffer = Buffer.allocUnsafe(4 * MiB);
    while ((await file.read(buffer, 0, buffer.length, null)).bytesRead > 0);
  } finally {
    await file.close();
  }
}

/** A file of `size` bytes with data (random, each MiB stamped) only in `extents`. */
async function writeDataFile(path: string, size: number, extents: [number, number][]) {
  const block = Buffer.alloc(MiB);
  for (let i = 0; i < MiB; i += 4) block.writeUInt32LE((Math.random() * 0x1_0000_0000) >>> 0, i);
  const file = await open(path, "w");
  try {
    for (const [offset, length] of extents) {
      for (let done = 0; done < length; done += MiB) {
        block.writeUInt32BE((offset + done) / MiB, 0);
        await file.write(block, 0, Math.min(MiB, length - done), offset + done);
      }
    }
    await file.truncate(size);
  } finally {
    await file.close();
  }
}

async function main(): Promise<void> {
  const suffix = Math.random().toString(16).slice(2, 8);
  const poolName = `vwtest-bench-${suffix}`;
  const dir = await mkdtemp(join(tmpdir(), "vwtest-bench-"));
  const lv = await Libvirt.connect(URI);
  let pool: RemoteNonnullStoragePool | undefined;
  const cleanup = async () => {
    running?.kill("SIGKILL");
    if (pool) {
      const { vols } = await lv
        .StoragePoolListAllVolumes({ pool, need_results: 1, flags: 0 })
        .catch(() => ({ vols: [] }));
      for (const vol of vols) await lv.StorageVolDelete({ vol, flags: 0 }).catch(() => undefined);
      await lv.StoragePoolDestroy({ pool }).catch(() => undefined);
    }
    await lv.close();
    await rm(dir, { recursive: true, force: true });
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: cleaning up ${dir} and pool ${poolName}`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  try {
    const { lib_ver } = await lv.ConnectGetLibVersion();
    console.log(
      `virtwire vs libvirt-python (${PYTHON}) on ${URI}, libvirt ${versionString(lib_ver)}, ` +
        `node ${process.version}; ${ROUNDS} rounds; load average ${loadString()}`,
    );
    await mkdir(join(dir, "pool"));
    ({ pool } = await lv.StoragePoolCreateXML({
      xml: `<pool type='dir'><name>${poolName}</name><target><path>${dir}/pool</path></target></pool>`,
      flags: 0,
    }));
    const files = {
      dense: { path: join(dir, "vwtest-bench-dense.src"), size: DENSE_MIB * MiB },
      sparse: { path: join(dir, "vwtest-bench-sparse.src"), size: SPARSE_MIB * MiB },
      big: { path: join(dir, "vwtest-bench-big.src"), size: BIG_MIB * MiB },
      fresh: { path: join(dir, "vwtest-bench-fresh.src"), size: SPARSE_MIB * MiB },
      many: { path: join(dir, "vwtest-bench-many.src"), size: AT_ONCE_MIB * MiB },
    };
    const sparseSize = files.sparse.size;
    const sparseExtents: [number, number][] = [
      [0, 2 * MiB],
      [Math.floor(sparseSize / 4 / MiB) * MiB + 4096, 2 * MiB],
      [sparseSize / 2, 2 * MiB],
      [sparseSize - 4 * MiB, 2 * MiB],
    ];
    await writeDataFile(files.dense.path, files.dense.size, [[0, files.dense.size]]);
    await writeDataFile(files.sparse.path, files.sparse.size, sparseExtents);
    await readThrough(files.sparse.path);
    if (BIG_MIB > 0) await writeDataFile(files.big.path, files.big.size, [[0, files.big.size]]);
    if (AT_ONCE > 0) await writeDataFile(files.many.path, files.many.size, [[0, files.many.size]]);
    const measurements = plan(files, poolName, () =>
      writeDataFile(files.fresh.path, files.fresh.size, sparseExtents),
    );
    const results = new Map<string, Record<Side, WorkerResult[]>>();
    let volumes = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const order: Side[] = round % 2 === 0 ? ["virtwire", "python"] : ["python", "virtwire"];
      process.stdout.write(`round ${round + 1}/${ROUNDS} (load ${loadString()}):`);
      for (const m of measurements) {
        if (round >= m.rounds) continue;
        for (const side of order.filter((s) => m.sides.includes(s))) {
          let job = m.job;
          const names: string[] = [];
          if (m.file) {
            for (let copy = 0; copy < (m.copies ?? 1); copy++) {
              const volume = `vwtest-bench-${suffix}-${++volumes}`;
              await lv.StorageVolCreateXML({
                pool: pool!,
                xml: `<volume><name>${volume}</name><capacity unit='bytes'>${m.file.size}</capacity><allocation>0</allocation><target><format type='raw'/></target></volume>`,
                flags: 0,
              });
              names.push(volume);
            }
            job = { ...job, volume: names[0], ...(m.copies ? { volumes: names } : {}) };
          }
          await m.fresh?.();
          const result = await runWorker(side, m.mode, job);
          for (const name of names) {
            const { vol } = await lv.StorageVolLookupByName({ pool: pool!, name });
            await lv.StorageVolDelete({ vol, flags: 0 });
          }
          const entry = results.get(m.key) ?? { virtwire: [], python: [] };
          entry[side].push(result);
          results.set(m.key, entry);
          process.stdout.write(".");
        }
      }
      process.stdout.write("\n");
    }
    report(measurements, results);
    console.log(`load average at the end: ${loadString()}`);
  } finally {
    await cleanup();
  }
}

function plan(
  files: Record<"dense" | "sparse" | "big" | "fresh" | "many", { path: string; size: number }>,
  pool: string,
  writeFresh: () => Promise<void>,
): Measurement[] {
  const both: Side[] = ["virtwire", "python"];
  const rssOnly = ["big", "many"];
  const calls = (op: CallOp, count: number, inflight: number, label: string): Measurement => ({
    key: `${op}/${inflight}`,
    label,
    mode: "calls",
    sides: both,
    rounds: ROUNDS,
    job: { uri: URI, op, count, inflight, warmup: WARMUP },
  });
  const upload = (
    key: string,
    label: string,
    file: keyof typeof files,
    sparse: boolean,
    fresh?: () => Promise<void>,
  ) => ({
    key,
    fresh,
    label,
    mode: "upload" as const,
    // Measured for virtwire's memory (issue 3's limit, and uploads at once), so once is enough.
    sides: rssOnly.includes(key) ? (["virtwire"] as Side[]) : both,
    rounds: rssOnly.includes(key) ? Math.min(BIG_ROUNDS, ROUNDS) : ROUNDS,
    job: { uri: URI, pool, file: files[file].path, sparse },
    file: files[file],
  });
  return [
    calls("libversion", CALLS, 1, `ConnectGetLibVersion ×${CALLS}, sequential`),
    calls("libversion", CALLS, INFLIGHT, `ConnectGetLibVersion ×${CALLS}, ${INFLIGHT} in flight`),
    calls("lookup-missing", CALLS, 1, `DomainLookupByName (missing) ×${CALLS}, sequential`),
    calls("lookup-missing", CALLS, INFLIGHT, `DomainLookupByName (missing), ${INFLIGHT} in flight`),
    calls("capabilities", CAPS_CALLS, 1, `ConnectGetCapabilities ×${CAPS_CALLS}, sequential`),
    calls("capabilities", CAPS_CALLS, INFLIGHT, `ConnectGetCapabilities, ${INFLIGHT} in flight`),
    upload("dense", `upload dense ${DENSE_MIB} MiB`, "dense", false),
    upload("sparse", `upload sparse ${SPARSE_MIB} MiB (8 MiB data), cached`, "sparse", true),
    upload(
      "sparse-fresh",
      `upload sparse ${SPARSE_MIB} MiB, file just written`,
      "fresh",
      true,
      writeFresh,
    ),
    ...(BIG_MIB > 0 ? [upload("big", `upload dense ${BIG_MIB} MiB (RSS)`, "big", false)] : []),
    ...(AT_ONCE > 0
      ? [
          {
            ...upload(
              "many",
              `upload dense ${AT_ONCE_MIB} MiB ×${AT_ONCE} at once (RSS)`,
              "many",
              false,
            ),
            copies: AT_ONCE,
          },
        ]
      : []),
  ];
}

/** calls/s or MiB/s of one run. */
function rate(m: Measurement, r: WorkerResult): number {
  return m.mode === "calls" ? r.count! / r.seconds : r.bytes! / MiB / r.seconds;
}

/** The median run (the lower middle one of an even count) and the best run, by rate. */
function pick(m: Measurement, runs: WorkerResult[]) {
  const sorted = [...runs].sort((a, b) => rate(m, b) - rate(m, a));
  return { median: sorted[Math.floor(sorted.length / 2)], best: sorted[0] };
}

function report(measurements: Measurement[], results: Map<string, Record<Side, WorkerResult[]>>) {
  const runsOf = (key: string, side: Side) => results.get(key)?.[side] ?? [];
  const digits = (m: Measurement) => (m.mode === "calls" ? 0 : 1);
  const unit = (m: Measurement) => (m.mode === "calls" ? "calls/s" : "MiB/s");
  const cell = (m: Measurement, runs: WorkerResult[]) => {
    const { median, best } = pick(m, runs);
    if (!median || !best) return "—";
    return `${rate(m, median).toFixed(digits(m))} (${rate(m, best).toFixed(digits(m))}) ${unit(m)}`;
  };
  const rss = (runs: WorkerResult[]) =>
    runs.length ? `${(Math.max(...runs.map((r) => r.maxRssKiB)) / 1024).toFixed(0)} MiB` : "—";
  const cpu = (m: Measurement, runs: WorkerResult[]) => {
    const r = pick(m, runs).median;
    if (!r) return "—";
    return m.mode === "calls"
      ? `${((r.cpuSeconds / r.count!) * 1e6).toFixed(1)} µs/call`
      : `${r.cpuSeconds.toFixed(2)} s`;
  };
  console.log(
    "\nmedian (best) of the rounds; ratio of the medians; peak RSS of all runs; client CPU of the median run\n",
  );
  const rows = [
    ["measurement", "virtwire", "libvirt-python", "ratio", "RSS vw / py", "CPU vw / py"],
  ];
  for (const m of measurements) {
    const [vw, py] = [runsOf(m.key, "virtwire"), runsOf(m.key, "python")];
    const [a, b] = [pick(m, vw).median, pick(m, py).median];
    rows.push([
      m.label,
      cell(m, vw),
      cell(m, py),
      a && b ? `${(rate(m, a) / rate(m, b)).toFixed(2)}×` : "",
      `${rss(vw)} / ${rss(py)}`,
      `${cpu(m, vw)} / ${cpu(m, py)}`,
    ]);
  }
  table(rows);
  console.log("\nspread: every run, in the order run\n");
  const spread = [["measurement", "virtwire runs", "libvirt-python runs"]];
  for (const m of measurements) {
    const list = (rs: WorkerResult[]) => rs.map((r) => rate(m, r).toFixed(digits(m))).join(" ");
    spread.push([
      m.label,
      list(runsOf(m.key, "virtwire")) || "—",
      list(runsOf(m.key, "python")) || "—",
    ]);
  }
  table(spread);

  /** Median and best rates of one side of one measurement. */
  const get = (key: string, side: Side) => {
    const m = measurements.find((x) => x.key === key);
    const { median, best } = m ? pick(m, runsOf(key, side)) : {};
    return m && median && best ? { median: rate(m, median), best: rate(m, best) } : undefined;
  };
  type Rates = NonNullable<ReturnType<typeof get>>;
  const targets: [string, string, boolean | undefined][] = [];
  /** A target `a ≥ factor × b` on the medians, with the bests for reference. */
  const compare = (
    what: string,
    a: Rates | undefined,
    b: Rates | undefined,
    factor: number,
    show: (x: number) => string,
    asTimes = false,
  ) => {
    if (!a || !b) return targets.push([what, "—", undefined]);
    // For a target on times, the ratio shown is of times: the inverse of the rates'.
    const ratio = (x: number, y: number) => (asTimes ? y / x : x / y).toFixed(2);
    targets.push([
      what,
      `${show(a.median)} vs ${show(b.median)} (${ratio(a.median, b.median)}×; best ${ratio(a.best, b.best)}×)`,
      a.median >= factor * b.median,
    ]);
  };
  const calls = (x: number) => `${x.toFixed(0)}/s`;
  for (const op of ["libversion", "lookup-missing", "capabilities"]) {
    compare(
      `${op} sequential ≥ libvirt-python`,
      get(`${op}/1`, "virtwire"),
      get(`${op}/1`, "python"),
      1,
      calls,
    );
  }
  for (const op of ["libversion", "lookup-missing", "capabilities"]) {
    const [par, seq] = [get(`${op}/${INFLIGHT}`, "virtwire"), get(`${op}/1`, "virtwire")];
    compare(`${op} ${INFLIGHT} in flight ≥ 2× our sequential`, par, seq, 2, calls);
  }
  compare(
    "dense upload ≥ 0.95× libvirt-python",
    get("dense", "virtwire"),
    get("dense", "python"),
    0.95,
    (x) => `${x.toFixed(0)} MiB/s`,
  );
  // Same bytes on both sides, so times compare inversely to rates: t_vw ≤ 1.2 t_py ⇔ r_vw ≥ r_py / 1.2.
  const sparseBytes = SPARSE_MIB;
  compare(
    "sparse upload time ≤ 1.2× libvirt-python's (file cached)",
    get("sparse", "virtwire"),
    get("sparse", "python"),
    1 / 1.2,
    (x) => `${(sparseBytes / x).toFixed(3)} s`,
    true,
  );
  compare(
    "sparse upload time ≤ 1.2× libvirt-python's (file just written)",
    get("sparse-fresh", "virtwire"),
    get("sparse-fresh", "python"),
    1 / 1.2,
    (x) => `${(sparseBytes / x).toFixed(3)} s`,
    true,
  );
  const big = runsOf("big", "virtwire");
  const peak = big.length ? Math.max(...big.map((r) => r.maxRssKiB)) / 1024 : undefined;
  const sampled = Math.max(0, ...big.map((r) => r.sampledPeakRssKiB ?? 0)) / 1024;
  targets.push([
    `peak RSS during the ${BIG_MIB} MiB upload < ${RSS_LIMIT_MIB} MiB`,
    peak === undefined
      ? "not run (VWBENCH_BIG_MIB=0)"
      : `${peak.toFixed(0)} MiB (sampled during the upload: ${sampled.toFixed(0)} MiB)`,
    peak === undefined ? undefined : peak < RSS_LIMIT_MIB,
  ]);
  const judged = (title: string) => {
    console.log(`\n${title}, on the medians of ${ROUNDS} rounds\n`);
    table([
      ["target", "figures", ""],
      ...targets.map(([t, f, ok]) => [t, f, ok === undefined ? "—" : ok ? "PASS" : "MISS"]),
    ]);
    targets.length = 0;
  };
  judged("targets (issue 3)");

  // Issue 17: at least libvirt-python's rates, 32 in flight against its 32 threads too; dense
  // uploads 1.2× its rate; a sparse upload's time per GiB of holes (the file minus its 8 MiB of data).
  for (const inflight of [1, INFLIGHT]) {
    for (const op of ["libversion", "lookup-missing", "capabilities"]) {
      compare(
        `${op} ${inflight === 1 ? "sequential" : `${INFLIGHT} in flight`} ≥ libvirt-python's`,
        get(`${op}/${inflight}`, "virtwire"),
        get(`${op}/${inflight}`, "python"),
        1,
        calls,
      );
    }
  }
  compare(
    "dense upload ≥ 1.2× libvirt-python",
    get("dense", "virtwire"),
    get("dense", "python"),
    1.2,
    (x) => `${x.toFixed(0)} MiB/s`,
  );
  const holesGiB = (SPARSE_MIB - 8) / 1024;
  for (const [key, file] of [
    ["sparse", "file cached"],
    ["sparse-fresh", "file just written"],
  ] as const) {
    const vw = get(key, "virtwire");
    const py = get(key, "python");
    const perGiB = (rate: number) => SPARSE_MIB / rate / holesGiB;
    targets.push([
      `sparse upload ≤ 0.05 s per GiB of holes (${file})`,
      vw && py
        ? `${perGiB(vw.median).toFixed(4)} s/GiB (best ${perGiB(vw.best).toFixed(4)}); libvirt-python ${perGiB(py.median).toFixed(4)} s/GiB`
        : "—",
      vw ? perGiB(vw.median) <= 0.05 : undefined,
    ]);
  }
  judged("targets (issue 17)");
}

function table(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  for (const [index, row] of rows.entries()) {
    console.log(`| ${row.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`);
    if (index === 0) console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  }
}

function versionString(version: bigint): string {
  const v = Number(version);
  return `${Math.floor(v / 1_000_000)}.${Math.floor(v / 1000) % 1000}.${v % 1000}`;
}

function loadString(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
