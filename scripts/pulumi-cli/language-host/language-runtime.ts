/**
 * The `pulumirpc.LanguageRuntime` service (pulumi/language.proto) for Node.js programs that use
 * only dynamic providers. What the CLI calls, and what we answer:
 *
 *   GetPluginInfo            this host's version
 *   GetRequiredPackages      none: dynamic resources are served by the bundled
 *   GetRequiredPlugins         `pulumi-resource-pulumi-nodejs`, which is never downloaded
 *   Run                      the program, through its own `@pulumi/pulumi/cmd/run` (run-program.ts)
 *   InstallDependencies      `npm install` in the project, its output streamed back
 *   GetProgramDependencies   package.json's dependencies with the installed versions
 *   About                    node's path and version
 *   RuntimeOptionsPrompts    none
 *   Handshake                accepted (the CLI calls it only when attaching to a running host)
 *   Cancel                   interrupts running programs
 *   GenerateProgram          TypeScript from PCL (`pulumi import`), by Pulumi's own generator
 *                            (generate-program.ts)
 *
 * Everything else (Template, RunPlugin, GenerateProject/Package, Pack, Link) is left to grpc-js,
 * which answers UNIMPLEMENTED.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn } from "node:child_process";
import type * as grpc from "@grpc/grpc-js";
import type { ILanguageRuntimeServer } from "@pulumi/pulumi/proto/language_grpc_pb";
import * as language from "@pulumi/pulumi/proto/language_pb";
import * as plugin from "@pulumi/pulumi/proto/plugin_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { generateProgram } from "./generate-program";
import { cancelPrograms, runProgram, type ProgramRun } from "./run-program";

/** This host's version, reported by GetPluginInfo (its package.json's). */
function hostVersion(): string {
  const manifest = path.join(__dirname, "package.json");
  if (!fs.existsSync(manifest)) return "";
  return String(JSON.parse(fs.readFileSync(manifest, "utf8")).version ?? "");
}

function programRun(request: language.RunRequest): ProgramRun {
  const info = request.getInfo();
  return {
    project: request.getProject(),
    stack: request.getStack(),
    organization: request.getOrganization(),
    pwd: info?.getProgramDirectory() || request.getPwd(),
    rootDirectory: info?.getRootDirectory() || request.getPwd(),
    entryPoint: info?.getEntryPoint() || request.getProgram() || ".",
    args: request.getArgsList(),
    config: Object.fromEntries(request.getConfigMap().toArray()),
    configSecretKeys: request.getConfigsecretkeysList(),
    dryRun: request.getDryrun(),
    parallel: request.getParallel(),
    monitorAddress: request.getMonitorAddress(),
    options: (info?.getOptions()?.toJavaScript() ?? {}) as Record<string, unknown>,
  };
}

/** package.json's dependencies, each with the version installed under node_modules if any. */
function programDependencies(directory: string): language.DependencyInfo[] {
  const manifestPath = path.join(directory, "package.json");
  if (!fs.existsSync(manifestPath)) return [];
  const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8"));
  const declared: Record<string, string> = {
    ...manifest.devDependencies,
    ...manifest.dependencies,
  };
  return Object.entries(declared).map(([name, range]) => {
    const installed = path.join(directory, "node_modules", name, "package.json");
    const version = fs.existsSync(installed)
      ? String(JSON.parse(fs.readFileSync(installed, "utf8")).version)
      : range;
    return new language.DependencyInfo().setName(name).setVersion(version);
  });
}

/** Streams `npm install`'s output back; fails the call when npm fails. */
function installDependencies(
  call: grpc.ServerWritableStream<
    language.InstallDependenciesRequest,
    language.InstallDependenciesResponse
  >,
): void {
  const directory = call.request.getInfo()?.getRootDirectory() || call.request.getDirectory();
  const npm = spawn("npm", ["install", "--no-audit", "--no-fund"], {
    cwd: directory,
    stdio: ["ignore", "pipe", "pipe"],
  });
  npm.stdout.on("data", (chunk: Buffer) =>
    call.write(new language.InstallDependenciesResponse().setStdout(chunk)),
  );
  npm.stderr.on("data", (chunk: Buffer) =>
    call.write(new language.InstallDependenciesResponse().setStderr(chunk)),
  );
  npm.on("error", (err) => call.destroy(new Error(`npm could not start: ${err.message}`)));
  npm.on("close", (code) => {
    if (code === 0) call.end();
    else call.destroy(new Error(`npm install in ${directory} exited with code ${code}`));
  });
}

/**
 * The service implementation. The engine's address (our command-line argument, or the Handshake's
 * when the engine attaches) is passed on to programs as `--engine`.
 */
export function languageRuntime(engineAddress: string): Partial<ILanguageRuntimeServer> {
  return {
    handshake: (call, callback) => {
      engineAddress = call.request.getEngineAddress() || engineAddress;
      callback(null, new language.LanguageHandshakeResponse());
    },
    getPluginInfo: (_call, callback) =>
      callback(null, new plugin.PluginInfo().setVersion(hostVersion())),
    getRequiredPlugins: (_call, callback) =>
      callback(null, new language.GetRequiredPluginsResponse()),
    getRequiredPackages: (_call, callback) =>
      callback(null, new language.GetRequiredPackagesResponse()),
    runtimeOptionsPrompts: (_call, callback) =>
      callback(null, new language.RuntimeOptionsResponse()),
    about: (_call, callback) =>
      callback(
        null,
        new language.AboutResponse()
          .setExecutable(process.execPath)
          .setVersion(process.version.replace(/^v/, "")),
      ),
    getProgramDependencies: (call, callback) => {
      const directory =
        call.request.getInfo()?.getProgramDirectory() || call.request.getPwd() || process.cwd();
      try {
        const response = new language.GetProgramDependenciesResponse();
        response.setDependenciesList(programDependencies(directory));
        callback(null, response);
      } catch (err) {
        callback(err as Error);
      }
    },
    installDependencies,
    run: (call, callback) => {
      runProgram(programRun(call.request), engineAddress).then((outcome) => {
        const response = new language.RunResponse();
        if (outcome.error) response.setError(outcome.error);
        if (outcome.bail) response.setBail(true);
        callback(null, response);
      }, callback);
    },
    generateProgram: (call, callback) => {
      generateProgram(call.request).then((response) => callback(null, response), callback);
    },
    cancel: (_call, callback) => {
      cancelPrograms();
      callback(null, new Empty());
    },
  };
}
