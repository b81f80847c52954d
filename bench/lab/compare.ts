/**
 * examples/lab with virtwire (`pulumi up`) and with Terraform + terraform-provider-libvirt, side by
 * side against the same daemon, rounds interleaved: create, no-change plan/preview, refresh,
 * destroy. Wall time, CPU of the whole process tree (a cgroup per run), time to the first libvirt
 * call (a relay on the daemon's socket), time to the last guest's lease (the harness polls the
 * daemon), and a breakdown of virtwire's own time. Run it with `bash bench/lab/run.sh`, which
 * builds the provider and passes what this reads (see bench/README.md). Prints figures; never
 * fails because a figure is high.
 *
 * Everything a run makes carries its marker (`vwtest-bench-<hex>-r<round>-<tool>`) and is removed
 * after the run: by the tool's own destroy, and then by a sweep of whatever still carries the
 * marker, also after a failure or Ctrl-C.
 */
import { spawn } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { Libvirt } from "../../rpc";
import { packVirtwire, prepareProgramDir, REPO_ROOT } from "../../test/support/program-dir";
import { callTable, readTrace, virtwireSpans } from "./breakdown";
import { RunCgroups } from "./cgroup";
import { LeaseWatch } from "./leases";
import { LibvirtRelay, now } from "./proxy";
import { breakdownTables, everyRun, headline, PhaseResult, table } from "./report";
import { sweepRun } from "./sweep";
import { Phase, PHASES, PulumiLab, RunSpec, TerraformLab, Tool, quiet } from "./tools";

const need = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run bench/lab/run.sh`);
  return value;
};
const ROUNDS = Number(process.env.VWBENCH_ROUNDS ?? 3);
const VMS = Number(process.env.VWBENCH_VMS ?? 3);
const POLL_MS = Number(process.env.VWBENCH_POLL_MS ?? 250);
const DAEMON_SOCKET = process.env.VWBENCH_DAEMON_SOCKET ?? "/var/run/libvirt/libvirt-sock";
const PRELOAD = need("VWBENCH_PRELOAD");
/**
 * The measured commands run inside the test bed's namespace, like the tests. The harness stays
 * outside: `ip netns exec` mounts a fresh /sys, without the cgroup hierarchies.
 */
const NETNS = process.env.VWBENCH_NETNS ? ["ip", "netns", "exec", process.env.VWBENCH_NETNS] : [];
/**
 * How long a command may take: create boots guests; the others take seconds, but TPL 0.8.3's
 * refresh sometimes hangs reading a cloud-init seed back (StorageVolDownload), with or without
 * the relay. Past the limit the command gets SIGINT, and 30 s later its cgroup's processes (its
 * own, nothing else) get SIGKILL: terraform waits for a hung provider forever.
 */
const TIMEOUT_MS = {
  create: Number(process.env.VWBENCH_CREATE_TIMEOUT ?? 600) * 1000,
  other: Number(process.env.VWBENCH_PHASE_TIMEOUT ?? 180) * 1000,
};

let interrupted = false;
let current: { pid: number } | undefined;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\nbench: ${signal}: stopping after the running command, then cleaning up`);
    // Ctrl-C reaches the running command from the terminal too; a second SIGINT would make
    // pulumi terminate at once instead of cancelling. Other signals are passed on as SIGINT.
    if (current && signal !== "SIGINT") process.kill(current.pid, "SIGINT"); // our own child
  });
}

const load = () => os.loadavg()[0]!;
const loads = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

interface Bench {
  work: string;
  relay: LibvirtRelay;
  cgroups: RunCgroups;
  lv: Libvirt;
  guest: RunSpec["guest"];
}

/** One command in its own cgroup; output to a log file (shown when it fails). */
async function measure(bench: Bench, tool: Tool, phase: Phase, spec: RunSpec, round: number) {
  const command = tool.command(phase);
  const runName = `${spec.marker}-${phase}`;
  const group = bench.cgroups.group(runName);
  const log = path.join(bench.work, `${runName}.log`);
  const trace = path.join(bench.work, `${runName}.trace`);
  const env: NodeJS.ProcessEnv = { ...command.env };
  if (tool.traced) {
    env.VWBENCH_TRACE_FILE = trace;
    env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ""} --require ${PRELOAD}`.trim();
  }
  const leases = phase === "create" ? new LeaseWatch(bench.lv, spec.subnet, POLL_MS) : undefined;
  const out = fs.openSync(log, "w");
  bench.relay.take();
  leases?.start();
  const started = now();
  const child = spawn(
    "sh",
    ["-c", `echo $$ > "${group.procs}" && exec "$@"`, "sh", ...NETNS, ...command.argv],
    { cwd: command.cwd, env, stdio: ["ignore", out, out] },
  );
  current = { pid: child.pid! };
  let timedOut = false;
  const timer = setTimeout(
    () => {
      timedOut = true;
      child.kill("SIGINT");
      setTimeout(() => bench.cgroups.kill(group.dir), 30_000).unref();
    },
    phase === "create" ? TIMEOUT_MS.create : TIMEOUT_MS.other,
  );
  const code = await new Promise<number>((resolve) =>
    child.on("exit", (c, signal) => resolve(c ?? (signal ? 128 : 1))),
  );
  const ended = now();
  clearTimeout(timer);
  current = undefined;
  leases?.stop();
  fs.closeSync(out);
  await new Promise((resolve) => setTimeout(resolve, 50)); // the relay sees the last closes
  const connections = bench.relay.take();
  const cpu = bench.cgroups.usage(group.dir).total;
  bench.cgroups.remove(group.dir); // kills stragglers of this run (its own processes only)
  const calls = connections.flatMap((c) => c.calls);
  const wall = (ended - started) / 1000;
  const lastAddress = leases?.lastAddressAt(VMS);
  const result: PhaseResult = {
    tool: tool.name,
    round,
    phase,
    ok: command.ok.includes(code),
    wall,
    cpu,
    firstCall: calls.length
      ? (Math.min(...calls.map((c) => c.sentAt)) - started) / 1000
      : undefined,
    lastAddress: lastAddress === undefined ? undefined : (lastAddress - started) / 1000,
    calls: calls.length,
    roundTrips: calls.reduce((s, c) => s + c.roundTrip, 0) / 1000,
    load: load(),
  };
  if (!result.ok) {
    result.note = timedOut ? `timed out, exit ${code}` : `exit ${code}`;
    const text = fs.readFileSync(log, "utf8");
    console.error(
      `bench: ${tool.name} ${phase} (round ${round}) failed, exit ${code}; last output:\n` +
        text.slice(-3000),
    );
  }
  if (tool.traced) {
    const processes = readTrace(trace, started);
    result.spans = virtwireSpans(
      processes,
      connections,
      started,
      lastAddress === undefined ? undefined : (lastAddress - started) / 1000,
      wall,
    );
    if (round === 1 && phase === "create" && tool.name === "virtwire") {
      console.log(processTimeline(processes));
    }
  }
  if (round === 1 && (tool.name === "virtwire" || !tool.traced) && phase !== "nochange") {
    const rows = callTable(connections).map(([name, count, seconds]) => [
      name,
      String(count),
      seconds.toFixed(3),
    ]);
    console.log(
      `\n${tool.name} ${phase}, round 1: libvirt calls by procedure (round trips as the client sees them)\n` +
        table(["procedure", "calls", "summed round trip s"], rows.slice(0, 12)),
    );
  }
  return result;
}

/** Each traced process's marks, for one command: where each Node process spent its start-up. */
function processTimeline(processes: ReturnType<typeof readTrace>): string {
  const rows = processes.map((p) => [
    `${p.role} (pid ${p.pid})`,
    [...p.marks.entries()].map(([mark, t]) => `${mark} ${t.toFixed(2)}`).join(", "),
  ]);
  return (
    `\nvirtwire create, round 1: Node processes (s since \`pulumi up\` started)\n` +
    table(["process", "marks"], rows)
  );
}

async function runTool(
  bench: Bench,
  tool: Tool,
  round: number,
  hex: string,
  results: PhaseResult[],
) {
  const marker = `vwtest-bench-${hex}-r${round}-${tool.name.replace(/[^a-z0-9]/gi, "")}`;
  const spec: RunSpec = {
    marker,
    subnet: `10.${randomInt(200, 250)}.${randomInt(0, 256)}`,
    poolPath: `/var/lib/libvirt/images/${marker}`,
    uri: `qemu:///system?socket=${bench.relay.listenPath}`,
    vms: VMS,
    password: randomBytes(12).toString("hex"),
    guest: bench.guest,
  };
  let destroyed = false;
  try {
    await tool.prepare(spec);
    for (const phase of PHASES) {
      if (interrupted) break;
      const result = await measure(bench, tool, phase, spec, round);
      results.push(result);
      console.log(
        `bench: round ${round} ${tool.name} ${phase}: ${result.ok ? "ok" : "FAILED"}, wall ${result.wall.toFixed(2)} s, CPU ${result.cpu.toFixed(2)} s, load ${result.load.toFixed(2)}`,
      );
      if (!result.ok) break;
      if (phase === "destroy") destroyed = true;
    }
  } catch (error) {
    console.error(`bench: ${tool.name} round ${round}: ${(error as Error).message}`);
  } finally {
    await tool.cleanup(destroyed).catch((e) => console.error(`bench: cleanup: ${e}`));
    const left = await sweepRun(bench.lv, marker, spec.poolPath).catch((e) => [
      `sweep failed: ${e}`,
    ]);
    if (left.length) console.error(`bench: removed what ${tool.name} left: ${left.join(", ")}`);
  }
}

/**
 * examples/lab as `pulumi up` runs it by default, and the variants VWBENCH_VARIANTS names, each a
 * further column, all what a user can do in their own project (README, "Making your own `pulumi
 * up` faster"):
 * - `transpile-only`: PULUMI_NODEJS_TRANSPILE_ONLY=true, an option of @pulumi/pulumi's runner
 *   (ts-node without type-checking);
 * - `skip-preview`: `--skip-preview` on up, refresh and destroy, as in CI where nobody reads it;
 * - `js-skip-preview`: index.ts compiled with `tsc` beforehand (untimed, as a build step would) and
 *   run as JavaScript (runtime option `typescript: false`), with `--skip-preview`;
 * - `plugin`: the resources served by the provider plugin `pulumi-resource-virtwire` instead of
 *   the dynamic provider (`virtwire:plugin: true`, the plugin's bin entry on PATH).
 */
async function virtwireTools(work: string): Promise<Tool[]> {
  const program = await prepareProgramDir([await packVirtwire()]);
  const dir = path.join(work, "lab");
  fs.mkdirSync(dir);
  const example = path.join(REPO_ROOT, "examples/lab");
  for (const entry of fs.readdirSync(example)) {
    if (["node_modules", "terraform"].includes(entry) || /^Pulumi\..+\.yaml$/.test(entry)) continue;
    fs.cpSync(path.join(example, entry), path.join(dir, entry), { recursive: true });
  }
  await new Promise<void>((resolve, reject) =>
    spawn("cp", ["-al", path.join(program.dir, "node_modules"), dir], { stdio: "inherit" }).on(
      "exit",
      (c) => (c === 0 ? resolve() : reject(new Error("cp -al node_modules failed"))),
    ),
  );
  fs.mkdirSync(path.join(dir, ".state"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${need("VWBENCH_PULUMI_BIN")}:${process.env.PATH}`,
    PULUMI_HOME: path.join(dir, ".pulumi-home"),
    PULUMI_BACKEND_URL: `file://${path.join(dir, ".state")}`,
    PULUMI_CONFIG_PASSPHRASE: randomBytes(12).toString("hex"),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_SKIP_CONFIRMATIONS: "true",
    NO_COLOR: "1",
  };
  const tools: Tool[] = [new PulumiLab("virtwire", dir, env)];
  const variants = (process.env.VWBENCH_VARIANTS ?? "").split(",");
  if (variants.includes("transpile-only")) {
    const transpileOnly = { ...env, PULUMI_NODEJS_TRANSPILE_ONLY: "true" };
    tools.push(new PulumiLab("virtwire-transpile-only", dir, transpileOnly));
  }
  if (variants.includes("skip-preview")) {
    tools.push(new PulumiLab("virtwire-skip-preview", dir, env, true));
  }
  if (variants.includes("js-skip-preview")) {
    tools.push(new PulumiLab("virtwire-js-skip-preview", await compiledLab(dir), env, true));
  }
  if (variants.includes("plugin")) {
    // As a user's PATH has the package's bin entry; run with node (a packed package extracted
    // into the program directory has no executable bits).
    const bin = path.join(work, "plugin-bin");
    fs.mkdirSync(bin);
    const main = path.join(dir, "node_modules/virtwire/dist/provider/plugin/main.js");
    fs.writeFileSync(
      path.join(bin, "pulumi-resource-virtwire"),
      `#!/bin/sh\nexec node '${main}' "$@"\n`,
      {
        mode: 0o755,
      },
    );
    const pluginEnv = { ...env, PATH: `${bin}:${env.PATH}` };
    tools.push(
      new PulumiLab("virtwire-plugin", dir, pluginEnv, false, { "virtwire:plugin": "true" }),
    );
  }
  return tools;
}

/** A copy of the lab project whose program is index.ts compiled to index.js, run as JavaScript. */
async function compiledLab(dir: string): Promise<string> {
  const js = `${dir}-js`;
  await quiet(["cp", "-al", dir, js], path.dirname(dir), process.env);
  for (const file of ["index.ts", "package.json", "Pulumi.yaml", "tsconfig.json"]) {
    fs.rmSync(path.join(js, file)); // hard links: written anew, not through the link
    fs.copyFileSync(path.join(dir, file), path.join(js, file));
  }
  await quiet([process.execPath, "node_modules/typescript/bin/tsc", "-p", "."], js, process.env);
  const manifest = JSON.parse(fs.readFileSync(path.join(js, "package.json"), "utf8"));
  fs.writeFileSync(
    path.join(js, "package.json"),
    JSON.stringify({ ...manifest, main: "index.js" }, null, 2),
  );
  const project = fs.readFileSync(path.join(js, "Pulumi.yaml"), "utf8");
  fs.writeFileSync(
    path.join(js, "Pulumi.yaml"),
    project.replace(
      /^runtime: nodejs$/m,
      "runtime:\n  name: nodejs\n  options:\n    typescript: false",
    ),
  );
  return js;
}

async function main() {
  const hex = randomBytes(3).toString("hex");
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `vwtest-bench-${hex}-`));
  const relay = new LibvirtRelay(path.join(work, "libvirt-sock"), DAEMON_SOCKET);
  let lv: Libvirt | undefined;
  let cgroups: RunCgroups | undefined;
  try {
    cgroups = RunCgroups.create(`vwtest-bench-${hex}`);
    await relay.start();
    lv = await Libvirt.connect(`qemu:///system?socket=${DAEMON_SOCKET}`);
    const image = path.join(work, "guest.img"); // the lab's stand-in base image, as lab.sh makes it
    fs.writeFileSync(image, gunzipSync(fs.readFileSync(need("VIRTWIRE_GUEST_INITRD"))));
    const guest = {
      kernel: need("VIRTWIRE_GUEST_KERNEL"),
      initrd: need("VIRTWIRE_GUEST_INITRD"),
      cmdline: need("VIRTWIRE_GUEST_CMDLINE"),
      image,
    };
    const bench: Bench = { work, relay, cgroups, lv, guest };
    const tools: Tool[] = await virtwireTools(work);
    for (const entry of (process.env.VWBENCH_TPL ?? "").split(",").filter(Boolean)) {
      const [name, cliConfig] = entry.split("=") as [string, string];
      const hcl = path.join(REPO_ROOT, "examples/lab/terraform/main.tf");
      tools.push(new TerraformLab(name, need("VWBENCH_TERRAFORM"), cliConfig, hcl, work));
    }
    const names = tools.map((t) => t.name);
    console.log(
      `bench: ${ROUNDS} rounds of ${names.join(", ")}; ${VMS} VMs; CPU from ${cgroups.description}; ` +
        `libvirt through a relay at ${relay.listenPath}; lease poll every ${POLL_MS} ms`,
    );
    const results: PhaseResult[] = [];
    for (let round = 1; round <= ROUNDS && !interrupted; round++) {
      const order = tools.map((_, i) => tools[(i + round - 1) % tools.length]!);
      console.log(
        `bench: round ${round}: ${order.map((t) => t.name).join(" then ")}; load average ${loads()}`,
      );
      for (const tool of order) {
        if (interrupted) break;
        await runTool(bench, tool, round, hex, results);
      }
      console.log(`bench: round ${round} done; load average ${loads()}`);
    }
    console.log(
      `\n## lab: ${VMS} VMs, ${ROUNDS} rounds, ${os.cpus().length} cores, ${new Date().toISOString()}\n`,
    );
    console.log(headline(results, names));
    console.log(`\nEvery run:\n${everyRun(results)}`);
    for (const tool of tools.filter((t) => t.traced)) {
      console.log(
        `\n## Where ${tool.name}'s time goes${breakdownTables(results, tool.name, PHASES)}`,
      );
    }
  } finally {
    await relay.stop().catch(() => undefined);
    await lv?.close().catch(() => undefined);
    cgroups?.removeAll();
    fs.rmSync(work, { recursive: true, force: true });
  }
  if (interrupted) process.exit(130);
}

main().catch((error) => {
  console.error(`bench: ${error instanceof Error ? error.stack : error}`);
  process.exit(1);
});
