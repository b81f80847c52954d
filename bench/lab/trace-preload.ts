/**
 * Loaded into every Node.js process of a measured `pulumi` command with
 * `NODE_OPTIONS=--require <this file, compiled>` (bench/lab only; nothing in virtwire reads it):
 * the language host, both runs of the program (preview and update) and the dynamic-provider
 * plugin. It appends marks to $VWBENCH_TRACE_FILE, one JSON line each, written at once (a plugin
 * the engine kills has no exit handler that runs):
 *
 *   {"pid":…,"ppid":…,"role":"program-preview","mark":"start","t":<epoch ms>}
 *
 * Marks: `start` (the process's time origin, i.e. when Node began), `preload` (Node ready to run
 * JavaScript), `load:<module>` / `loaded:<module>` around the first require of the modules that
 * matter, `compile:<file>` when a .ts file's compiled code starts to run (ts-node is done with it),
 * `stdout` (first write: the language host's port line), `exit`. Times are epoch milliseconds
 * (performance.timeOrigin + performance.now()), comparable with the bench harness's own.
 */
import * as fs from "node:fs";
// eslint-disable-next-line @typescript-eslint/no-require-imports
import Module = require("node:module");
import { performance } from "node:perf_hooks";

const file = process.env.VWBENCH_TRACE_FILE;
const now = () => performance.timeOrigin + performance.now();

function role(): string {
  if (process.execArgv.includes("-p")) return "plugin shim (node -p require.resolve)";
  const args = process.argv.slice(1).join(" ");
  if (/language-host[/\\]main\.js/.test(args)) return "language-host";
  if (/cmd[/\\]run\b/.test(args)) {
    return process.argv.includes("--dry-run") ? "program-preview" : "program-update";
  }
  if (/cmd[/\\]dynamic-provider/.test(args)) return "provider";
  // virtwire's provider plugin (the `plugin` variant), in the same rows as the dynamic provider.
  if (/provider[/\\]plugin[/\\]main\.js/.test(args)) return "provider";
  return `node ${args.slice(0, 60)}`;
}

/** The modules whose first load is timed, by the request that loads them. */
const TIMED = new Set([
  "@pulumi/pulumi",
  "@pulumi/pulumi/runtime",
  "virtwire",
  "virtwire/provider",
  "ts-node",
  "typescript",
  "@grpc/grpc-js",
]);

if (file) {
  const me = role();
  const mark = (name: string, t = now()) => {
    try {
      fs.appendFileSync(
        file,
        JSON.stringify({ pid: process.pid, ppid: process.ppid, role: me, mark: name, t }) + "\n",
      );
    } catch {
      // A trace must never break the run it watches.
    }
  };
  mark("start", performance.timeOrigin);
  mark("preload");

  type Load = (request: string, parent: unknown, isMain: boolean) => unknown;
  type Compile = (this: unknown, content: string, filename: string) => unknown;
  const internals = Module as unknown as { _load: Load; prototype: { _compile: Compile } };
  const load = internals._load;
  const seen = new Set<string>();
  internals._load = function (request: string, parent: unknown, isMain: boolean) {
    const timed = TIMED.has(request) && !seen.has(request);
    const program = /\.ts$/.test(request) || (isMain && !seen.has("main"));
    if (!timed && !program) return load.call(this, request, parent, isMain);
    const name = timed ? request : isMain ? "main" : request.replace(/^.*[/\\]/, "");
    seen.add(name);
    mark(`load:${name}`);
    try {
      return load.call(this, request, parent, isMain);
    } finally {
      mark(`loaded:${name}`);
    }
  };
  const compile = internals.prototype._compile;
  internals.prototype._compile = function (this: unknown, content: string, filename: string) {
    if (/\.ts$/.test(filename)) mark(`compile:${filename.replace(/^.*[/\\]/, "")}`);
    return compile.call(this, content, filename);
  };

  const write = process.stdout.write;
  process.stdout.write = function (this: unknown, ...args: unknown[]) {
    process.stdout.write = write;
    mark("stdout");
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof process.stdout.write;
  process.on("exit", () => mark("exit"));
}
