/** Medians, spreads and the tables bench/lab prints. */
import type { Phase } from "./tools";
import type { Spans } from "./breakdown";

export interface PhaseResult {
  tool: string;
  round: number;
  phase: Phase;
  ok: boolean;
  wall: number;
  cpu: number;
  /** Seconds from start to the first libvirt call (the relay's clock). */
  firstCall?: number;
  /** create: seconds from start to the last guest's lease (the lease watch's clock). */
  lastAddress?: number;
  calls: number;
  roundTrips: number;
  load: number;
  spans?: Spans;
  note?: string;
}

export function median(values: number[]): number | undefined {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const fmt = (v: number | undefined, digits = 1) => (v === undefined ? "—" : v.toFixed(digits));

/** `median [min–max]` of the known values, `—` when there are none. */
export function spread(values: (number | undefined)[], digits = 1, unit = " s"): string {
  const known = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (!known.length) return "—";
  const m = median(known)!;
  if (known.length === 1) return `${fmt(m, digits)}${unit}`;
  return `${fmt(m, digits)}${unit} [${fmt(Math.min(...known), digits)}–${fmt(Math.max(...known), digits)}]`;
}

export function table(header: string[], rows: string[][]): string {
  const lines = [header, header.map(() => "---"), ...rows].map((row) => `| ${row.join(" | ")} |`);
  return lines.join("\n");
}

/** The headline table: one column per tool, figures of successful runs, median [min–max]. */
export function headline(results: PhaseResult[], tools: string[]): string {
  const ok = (tool: string, phase: Phase) =>
    results.filter((r) => r.ok && r.tool === tool && r.phase === phase);
  const row = (
    label: string,
    phase: Phase,
    pick: (r: PhaseResult) => number | undefined,
    d = 1,
    unit = " s",
  ) => [label, ...tools.map((tool) => spread(ok(tool, phase).map(pick), d, unit))];
  return table(
    ["median [min–max] of successful rounds", ...tools],
    [
      row("create, wall (incl. plan / preview)", "create", (r) => r.wall),
      row("create, CPU (whole process tree)", "create", (r) => r.cpu),
      row("create: first libvirt call after", "create", (r) => r.firstCall, 2),
      row("create: last guest's lease after", "create", (r) => r.lastAddress),
      row("create: libvirt calls", "create", (r) => r.calls, 0, ""),
      row("no-change plan / preview, wall", "nochange", (r) => r.wall),
      row("no-change plan / preview, CPU", "nochange", (r) => r.cpu),
      row("refresh, wall", "refresh", (r) => r.wall),
      row("refresh, CPU", "refresh", (r) => r.cpu),
      row("destroy, wall", "destroy", (r) => r.wall),
      row("destroy, CPU", "destroy", (r) => r.cpu),
      [
        "rounds ok / run (create)",
        ...tools.map(
          (tool) =>
            `${ok(tool, "create").length} / ${results.filter((r) => r.tool === tool && r.phase === "create").length}`,
        ),
      ],
    ],
  );
}

/** Every run, as measured, for the spread. */
export function everyRun(results: PhaseResult[]): string {
  return table(
    [
      "round",
      "tool",
      "phase",
      "ok",
      "wall s",
      "CPU s",
      "first call s",
      "last lease s",
      "calls",
      "RTT sum s",
      "load (1 min)",
    ],
    results.map((r) => [
      String(r.round),
      r.tool,
      r.phase,
      r.ok ? "yes" : `NO${r.note ? ` (${r.note})` : ""}`,
      fmt(r.wall, 2),
      fmt(r.cpu, 2),
      fmt(r.firstCall, 2),
      fmt(r.lastAddress, 1),
      String(r.calls),
      fmt(r.roundTrips, 3),
      r.load.toFixed(2),
    ]),
  );
}

/** virtwire's breakdown per phase: each span's median [min–max] over the successful rounds. */
export function breakdownTables(results: PhaseResult[], tool: string, phases: Phase[]): string {
  const out: string[] = [];
  for (const phase of phases) {
    const runs = results.filter((r) => r.ok && r.tool === tool && r.phase === phase && r.spans);
    if (!runs.length) continue;
    const names: string[] = [];
    for (const run of runs)
      for (const name of Object.keys(run.spans!)) if (!names.includes(name)) names.push(name);
    const counts = (name: string) =>
      /^libvirt (calls|connections)$|^language host launches$/.test(name);
    out.push(
      `\n${tool}, ${phase} (${runs.length} rounds; times in s since \`pulumi\` started, or durations)\n` +
        table(
          ["span", "median [min–max]"],
          names.map((name) => [
            name,
            spread(
              runs.map((r) => r.spans![name]),
              counts(name) ? 0 : 2,
              counts(name) ? "" : " s",
            ),
          ]),
        ),
    );
  }
  return out.join("\n");
}
