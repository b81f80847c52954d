#!/usr/bin/env node
/**
 * `pulumi-resource-virtwire`, the provider plugin (package `virtwire`), as the Pulumi CLI starts it:
 * `pulumi-resource-virtwire <engine address>`. It serves the same provider as the dynamic path
 * (dispatch.ts over resources/registry.ts), with lines for the user sent to that engine
 * (engine-log.ts). Like provider/index.ts, a composition root: it imports resources/.
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { createProvider } from "../dispatch";
import { engineAddressOf, engineLog } from "../engine-log";
import { registry } from "../../resources/registry";
import { pluginInvoke } from "./invoke";
import { pluginSchema } from "./schema";
import { serve } from "./server";

/** The package root (schema.json, package.json): above dist/provider/plugin/ or provider/plugin/. */
function packageRoot(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "schema.json"))) return dir;
  }
  throw new Error(`schema.json is missing from the virtwire package above ${__dirname}`);
}

function main(): void {
  const [address] = process.argv.slice(2);
  const root = packageRoot();
  const log = engineLog(address ? engineAddressOf(address) : undefined);
  const { version } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
    version: string;
  };
  const schemaText = readFileSync(path.join(root, "schema.json"), "utf8");
  const provider = createProvider(registry, { log });
  serve({
    provider,
    version,
    schema: () => pluginSchema(schemaText, version),
    invoke: pluginInvoke(provider),
  }).catch((error: unknown) => {
    process.stderr.write(`pulumi-resource-virtwire: ${(error as Error).message}\n`);
    process.exit(1);
  });
}

main();
