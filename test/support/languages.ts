/**
 * Pulumi's language hosts for programs in languages other than TypeScript, for the e2e tests.
 *
 * YAML: `pulumi-language-yaml`, built from the github.com/pulumi/pulumi-yaml Go module by
 * scripts/pulumi-yaml.sh and put beside the CLI of scripts/pulumi-cli.sh, where the CLI finds it.
 * scripts/test.sh builds it before the tests (the test namespace has no network) and exports its
 * PATH entries as $VIRTWIRE_PULUMI_YAML_BIN.
 *
 * Python has no host here: the Go module proxy refuses github.com/pulumi/pulumi/sdk/python/cmd/
 * pulumi-language-python/v3 at every version (403, as for the Node.js host), so a Python program
 * cannot run through the CLI; scripts/sdk-langs.sh verify type-checks and imports the generated
 * Python SDK instead.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "./program-dir";

const run = promisify(execFile);

/**
 * The PATH entries (`:`-separated, the CLI's first) that give `pulumi` with the YAML language host:
 * $VIRTWIRE_PULUMI_YAML_BIN, else what scripts/pulumi-yaml.sh provides (which builds it once).
 */
export async function yamlHostPath(): Promise<string> {
  if (process.env.VIRTWIRE_PULUMI_YAML_BIN) return process.env.VIRTWIRE_PULUMI_YAML_BIN;
  const script = path.join(REPO_ROOT, "scripts/pulumi-yaml.sh");
  const { stdout } = await run("bash", [script, "bin"], { env: process.env, timeout: 900_000 });
  return stdout.trim();
}

/** The environment a Pulumi YAML program runs with, for PulumiProject's `env` option. */
export async function yamlProjectEnv(): Promise<Record<string, string>> {
  return { PATH: `${await yamlHostPath()}:${process.env.PATH}` };
}

/**
 * Writes a Pulumi YAML project into `dir`: Pulumi.yaml with `name`, `runtime: yaml` and `body`
 * (the program's top-level sections: config, resources, variables, outputs, as YAML text).
 */
export function writeYamlProject(dir: string, name: string, body: string): void {
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: ${name}\nruntime: yaml\n${body}`);
}
