/**
 * Where the time of one virtwire command goes, from three sources that need no change to
 * virtwire or Pulumi: the trace lines of its Node.js processes (trace-preload.ts), the relay's
 * record of every libvirt connection and call (proxy.ts), and the lease watch (leases.ts). All
 * times are seconds since the harness started the `pulumi` process.
 */
import * as fs from "node:fs";
import { RemoteProcedures } from "../../rpc/protocol/remote";
import type { ConnectionRecord } from "./proxy";

interface TraceLine {
  pid: number;
  role: string;
  mark: string;
  t: number;
}

export interface Process {
  pid: number;
  role: string;
  marks: Map<string, number>;
}

const NAMES = new Map<number, string>(
  Object.values(RemoteProcedures).map((procedure) => [procedure.number, procedure.name]),
);
export const procedureName = (number: number) => NAMES.get(number) ?? `proc ${number}`;

/** The traced Node processes of one command, in the order they started. */
export function readTrace(file: string, origin: number): Process[] {
  if (!fs.existsSync(file)) return [];
  const byPid = new Map<number, Process>();
  for (const line of fs.readFileSync(file, "utf8").split("\n").filter(Boolean)) {
    const { pid, role, mark, t } = JSON.parse(line) as TraceLine;
    let process = byPid.get(pid);
    if (!process) byPid.set(pid, (process = { pid, role, marks: new Map() }));
    if (!process.marks.has(mark)) process.marks.set(mark, (t - origin) / 1000);
  }
  return [...byPid.values()].sort(
    (a, b) => (a.marks.get("start") ?? 0) - (b.marks.get("start") ?? 0),
  );
}

/** Named spans of one command, seconds; absent when the command had no such step. */
export type Spans = Record<string, number>;

const span = (from: number | undefined, to: number | undefined) =>
  from !== undefined && to !== undefined ? to - from : undefined;

/**
 * The spans of a virtwire command: per Node process (language host; each program run; each
 * provider plugin), what its start-up cost, and for the libvirt work, the calls' round trips and
 * the waits between them.
 */
export function virtwireSpans(
  processes: Process[],
  connections: ConnectionRecord[],
  origin: number,
  lastAddress: number | undefined,
  wall: number,
): Spans {
  const spans: Spans = {};
  const put = (name: string, value: number | undefined) => {
    if (value !== undefined && !(name in spans)) spans[name] = value;
  };
  // Our language host (scripts/pulumi-cli/language-host), started by the CLI once per question it
  // asks a program's runtime; upstream's is a Go binary doing the same at each launch.
  const hosts = processes.filter((p) => p.role === "language-host");
  put("CLI start → first language host process", hosts[0]?.marks.get("start"));
  put("language host launches", hosts.length);
  put(
    "language host: node start → ready (port line), summed over launches",
    sum(...hosts.map((h) => span(h.marks.get("start"), h.marks.get("stdout")))),
  );
  const shims = processes.filter((p) => p.role.startsWith("plugin shim"));
  put(
    "plugin shim's `node -p require.resolve`, summed",
    sum(...shims.map((p) => span(p.marks.get("start"), p.marks.get("exit")))),
  );
  const preview = processes.find((p) => p.role === "program-preview");
  const update = processes.find((p) => p.role === "program-update");
  put(
    "preview program exit → update program start",
    span(preview?.marks.get("exit"), update?.marks.get("start")),
  );
  for (const role of ["program-preview", "program-update"]) {
    const p = processes.find((q) => q.role === role);
    if (!p) continue;
    const m = (name: string) => p.marks.get(name);
    const what = role === "program-preview" ? "program (preview)" : "program (update)";
    put(`${what}: started at`, m("start"));
    put(`${what}: node start → JavaScript runs`, span(m("start"), m("preload")));
    put(
      `${what}: ts-node + typescript load`,
      sum(
        span(m("load:ts-node"), m("loaded:ts-node")),
        span(m("load:typescript"), m("loaded:typescript")),
      ),
    );
    put(`${what}: @pulumi/pulumi load`, span(m("load:@pulumi/pulumi"), m("loaded:@pulumi/pulumi")));
    const compiled = [...p.marks.entries()].find(([name]) => name.startsWith("compile:index"))?.[1];
    put(`${what}: index.ts type-check + compile (ts-node)`, span(m("load:index.ts"), compiled));
    put(`${what}: runner start → index.ts compiled (type-check)`, span(m("preload"), compiled));
    put(`${what}: virtwire load`, span(m("load:virtwire"), m("loaded:virtwire")));
    put(`${what}: index.ts compiled → exit`, span(compiled, m("exit")));
  }
  const providers = processes.filter((p) => p.role === "provider");
  providers.forEach((p, index) => {
    const what = providers.length > 1 ? `provider plugin ${index + 1}` : "provider plugin";
    const start = p.marks.get("start");
    put(`${what}: started at`, start);
    put(
      `${what}: typescript load (by @pulumi/pulumi's dynamic provider)`,
      span(p.marks.get("load:typescript"), p.marks.get("loaded:typescript")),
    );
    put(
      `${what}: node start → virtwire/provider loaded`,
      span(start, p.marks.get("loaded:virtwire/provider") ?? p.marks.get("loaded:virtwire")),
    );
  });
  const opened = connections.map((c) => (c.openedAt - origin) / 1000).sort((a, b) => a - b);
  put("first libvirt connection at", opened[0]);
  const calls = connections.flatMap((c) => c.calls);
  const first = Math.min(...calls.map((c) => c.sentAt));
  if (calls.length) put("first libvirt call at", (first - origin) / 1000);
  const handshake = connections.map((c) => {
    const open = c.calls.find((call) => procedureName(call.procedure) === "ConnectOpen");
    return open ? (open.sentAt + open.roundTrip - c.openedAt) / 1000 : undefined;
  });
  put("connect (socket → ConnectOpen replied), summed over connections", sum(...handshake));
  put("libvirt connections", connections.length);
  put("libvirt calls", calls.length);
  put("libvirt round trips, summed", calls.reduce((s, c) => s + c.roundTrip, 0) / 1000);
  const starts = calls
    .filter((c) => /^DomainCreate/.test(procedureName(c.procedure)))
    .map((c) => (c.sentAt - origin) / 1000);
  if (starts.length) put("first guest started at", Math.min(...starts));
  put("last address (lease) at", lastAddress);
  put(
    "waiting for leases (first guest start → last lease)",
    span(starts.length ? Math.min(...starts) : undefined, lastAddress),
  );
  put("last lease → pulumi exits", span(lastAddress, wall));
  return spans;
}

function sum(...values: (number | undefined)[]): number | undefined {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length ? known.reduce((a, b) => a + b, 0) : undefined;
}

/** Calls by procedure: count and summed round trip, most time first. */
export function callTable(connections: ConnectionRecord[]): [string, number, number][] {
  const rows = new Map<string, [number, number]>();
  for (const call of connections.flatMap((c) => c.calls)) {
    const name = procedureName(call.procedure);
    const row = rows.get(name) ?? [0, 0];
    rows.set(name, [row[0] + 1, row[1] + call.roundTrip / 1000]);
  }
  return [...rows.entries()]
    .map(([name, [count, seconds]]) => [name, count, seconds] as [string, number, number])
    .sort((a, b) => b[2] - a[2]);
}
