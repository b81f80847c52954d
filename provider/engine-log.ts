/**
 * Lines for the user, sent to the Pulumi engine with its Log RPC so that they belong to the
 * resource they are about, not to the stack. `pulumirpc.Engine/Log` (proto/pulumi/engine.proto):
 *
 *   LogRequest { severity: DEBUG 0 | INFO 1 | WARNING 2 | ERROR 3, message, urn, streamId,
 *                ephemeral }
 *
 * The engine (pkg/host/host_server.go) hands a request to `host.Log`, or to `host.LogStatus` when
 * it is ephemeral. With the resource's URN, the CLI shows
 *
 *   a line       under the resource in Diagnostics, and in `preview --json`'s diagnostics with
 *                that URN
 *   a status     on the resource's row while it works (the row shows its last message), never in
 *                Diagnostics or the JSON digest; `--event-log` has it, marked ephemeral
 *
 * The dynamic-provider plugin of @pulumi/pulumi gives providers no engine connection of their own,
 * but the engine starts every provider plugin with its address as the only argument
 * (pkg/resource/plugin/provider_plugin.go: `newPlugin(…, []string{host.ServerAddr()}, …)`), and
 * the plugin's script leaves it in process.argv: that address serves the Engine service.
 *
 * Where no engine answers there (not the plugin process, or a test that starts the plugin with an
 * address nobody listens on), every line, status lines too, is printed on stdout as before, which
 * the engine shows on the stack's row.
 */
import { createRequire } from "node:module";
import type * as grpc from "@grpc/grpc-js";
import type { EngineClient } from "@pulumi/pulumi/proto/engine_grpc_pb";

export type Severity = "info" | "warning";

export interface LogLine {
  message: string;
  /** The resource the line is about; the stack's when absent. */
  urn?: string;
  severity?: Severity;
  /** Progress, shown on the resource's row and then gone. */
  ephemeral?: boolean;
}

export interface EngineLog {
  /** Resolves once it is known whether the engine answers (at most PROBE_MS). */
  ready(): Promise<void>;
  write(line: LogLine): void;
  /** Resolves when every line written so far was delivered, printed or given up on. */
  flush(): Promise<void>;
  close(): void;
}

/** How long the first connection to the engine may take before lines go to stdout. */
const PROBE_MS = 3_000;
/** How long the engine may take to take a line (it answers at once; a stuck call must not hang). */
const DELIVERY_MS = 5_000;

/**
 * The engine's address when this process is the dynamic-provider plugin the engine started
 * (`node …/@pulumi/pulumi/cmd/dynamic-provider/index.js <address>`), else undefined. Older
 * engines give only `:port`.
 */
export function pluginEngineAddress(argv: readonly string[] = process.argv): string | undefined {
  const [, script = "", address = ""] = argv;
  if (!/[\\/]cmd[\\/]dynamic-provider([\\/]index\.js)?$/.test(script)) return undefined;
  return engineAddressOf(address);
}

/** The engine's address as a plugin's argument gives it, or undefined; older engines give `:port`. */
export function engineAddressOf(argument: string): string | undefined {
  if (/^:\d+$/.test(argument)) return `127.0.0.1${argument}`;
  return /^(\[[0-9a-fA-F:.]+\]|[\w.-]+):\d+$/.test(argument) ? argument : undefined;
}

/** What a line looks like on stdout, where the engine shows it on the stack's row. */
function printed(line: LogLine): string {
  return line.severity === "warning" ? `warning: ${line.message}` : line.message;
}

/**
 * A log that sends to the engine at `address`, in the order written, or prints on stdout when
 * there is no address or the engine does not answer.
 */
export function engineLog(
  address: string | undefined,
  print: (text: string) => void = (text) => console.log(text),
): EngineLog {
  let client: EngineClient | undefined;
  let connected: Promise<boolean> | undefined;
  let tail: Promise<void> = Promise.resolve();

  const connect = (): Promise<boolean> =>
    (connected ??= (async () => {
      if (address === undefined) return false;
      try {
        client = newClient(address);
        if (await reachable(client, PROBE_MS)) return true;
      } catch {
        // No usable gRPC or engine client: print instead.
      }
      client?.close();
      client = undefined;
      return false;
    })());

  const send = async (line: LogLine): Promise<void> => {
    if (!(await connect()) || !client) return print(printed(line));
    const delivered = await deliver(client, line);
    if (!delivered && !line.ephemeral) print(printed(line));
  };

  return {
    async ready() {
      await connect();
    },
    write(line) {
      tail = tail.then(() => send(line)).catch(() => undefined);
    },
    flush() {
      return tail;
    },
    close() {
      client?.close();
    },
  };
}

interface EngineModules {
  grpc: typeof grpc;
  engine: typeof import("@pulumi/pulumi/proto/engine_pb");
  service: typeof import("@pulumi/pulumi/proto/engine_grpc_pb");
}

let modules: EngineModules | undefined;

/**
 * @pulumi/pulumi's own gRPC and engine stubs, loaded when first needed: the LogRequest class and
 * the client's grpc-js must be the ones its generated code checks against.
 */
function engineModules(): EngineModules {
  if (modules) return modules;
  const fromPulumi = createRequire(require.resolve("@pulumi/pulumi/package.json"));
  modules = {
    grpc: fromPulumi("@grpc/grpc-js"),
    engine: fromPulumi("./proto/engine_pb"),
    service: fromPulumi("./proto/engine_grpc_pb"),
  };
  return modules;
}

function newClient(address: string): EngineClient {
  const { grpc, service } = engineModules();
  return new service.EngineClient(address, grpc.credentials.createInsecure());
}

/** Whether the channel gets ready within `ms`; a refused connection answers false at once. */
function reachable(client: EngineClient, ms: number): Promise<boolean> {
  const { grpc } = engineModules();
  const { READY, TRANSIENT_FAILURE, SHUTDOWN } = grpc.connectivityState;
  const channel = client.getChannel();
  const deadline = Date.now() + ms;
  return new Promise((resolve) => {
    const look = () => {
      const state = channel.getConnectivityState(true);
      if (state === READY) return resolve(true);
      if (state === TRANSIENT_FAILURE || state === SHUTDOWN) return resolve(false);
      channel.watchConnectivityState(state, deadline, (error?: Error) =>
        error ? resolve(false) : look(),
      );
    };
    look();
  });
}

function deliver(client: EngineClient, line: LogLine): Promise<boolean> {
  const { engine, grpc } = engineModules();
  const request = new engine.LogRequest()
    .setSeverity(line.severity === "warning" ? engine.LogSeverity.WARNING : engine.LogSeverity.INFO)
    .setMessage(line.message)
    .setUrn(line.urn ?? "")
    .setEphemeral(line.ephemeral === true);
  return new Promise((resolve) => {
    client.log(request, new grpc.Metadata(), { deadline: Date.now() + DELIVERY_MS }, (error) =>
      resolve(!error),
    );
  });
}
