import { Server, ServerCredentials } from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { EngineService } from "@pulumi/pulumi/proto/engine_grpc_pb";
import type { LogRequest } from "@pulumi/pulumi/proto/engine_pb";
import { engineLog, pluginEngineAddress } from "./engine-log";

const URN = "urn:pulumi:dev::lab::pulumi-nodejs:dynamic/virtwire:Domain::vm";
const PLUGIN = "/p/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js";

/** An Engine service that records what it is told, like the engine's host server. */
async function recordingEngine() {
  const received: { message: string; urn: string; severity: number; ephemeral: boolean }[] = [];
  const server = new Server();
  server.addService(EngineService, {
    log(call: { request: LogRequest }, callback: (error: null, reply: Empty) => void) {
      const request = call.request;
      received.push({
        message: request.getMessage(),
        urn: request.getUrn(),
        severity: request.getSeverity(),
        ephemeral: request.getEphemeral(),
      });
      callback(null, new Empty());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return { address: `127.0.0.1:${port}`, received, stop: () => server.forceShutdown() };
}

describe("the engine's address", () => {
  it("is the argument of the dynamic-provider plugin", () => {
    expect(pluginEngineAddress(["node", PLUGIN, "127.0.0.1:40123"])).toBe("127.0.0.1:40123");
    expect(pluginEngineAddress(["node", PLUGIN.replace("/index.js", ""), "localhost:9"])).toBe(
      "localhost:9",
    );
  });

  it("is on loopback when an older engine gives only the port", () => {
    expect(pluginEngineAddress(["node", PLUGIN, ":40123"])).toBe("127.0.0.1:40123");
  });

  it("is unknown in any other process, or without an address", () => {
    expect(pluginEngineAddress(["node", "/p/index.ts", "127.0.0.1:40123"])).toBeUndefined();
    expect(pluginEngineAddress(["node", PLUGIN])).toBeUndefined();
    expect(pluginEngineAddress(["node", PLUGIN, "--inspect"])).toBeUndefined();
  });
});

describe("lines for the user", () => {
  it("reach the engine in order, with the resource's URN, severity and ephemeral flag", async () => {
    const engine = await recordingEngine();
    const printed: string[] = [];
    const log = engineLog(engine.address, (text) => printed.push(text));
    try {
      log.write({ message: "waiting", urn: URN, ephemeral: true });
      log.write({ message: "no DHCP", urn: URN, severity: "warning" });
      log.write({ message: "on the stack" });
      await log.flush();
      expect(engine.received).toEqual([
        { message: "waiting", urn: URN, severity: 1, ephemeral: true },
        { message: "no DHCP", urn: URN, severity: 2, ephemeral: false },
        { message: "on the stack", urn: "", severity: 1, ephemeral: false },
      ]);
      expect(printed).toEqual([]);
    } finally {
      log.close();
      engine.stop();
    }
  });

  it("are printed, status lines too, when there is no engine to send them to", async () => {
    const printed: string[] = [];
    const log = engineLog(undefined, (text) => printed.push(text));
    log.write({ message: "uploading 10 %", urn: URN, ephemeral: true });
    log.write({ message: "no DHCP", urn: URN, severity: "warning" });
    await log.flush();
    expect(printed).toEqual(["uploading 10 %", "warning: no DHCP"]);
  });

  it("are printed at once when nothing listens at the engine's address", async () => {
    const printed: string[] = [];
    const log = engineLog("127.0.0.1:1", (text) => printed.push(text));
    const started = Date.now();
    await log.ready();
    log.write({ message: "created", urn: URN });
    await log.flush();
    expect(printed).toEqual(["created"]);
    expect(Date.now() - started).toBeLessThan(2_000);
    log.close();
  });
});
