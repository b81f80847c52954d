/**
 * Pulumi's language hosts for programs in languages other than TypeScript, for the e2e tests.
 *
 * YAML: `pulumi-language-yaml`, built from the github.com/pulumi/pulumi-yaml Go module by
 * scripts/pulumi-yaml.sh and put beside the CLI of scripts/pulumi-cli.sh, where the CLI finds it.
 * scripts/test.sh builds it before the tests (the test namespace has no network) and exports its
 * PATH entries as $VIRTWIRE_PULUMI_YAML_BIN.
 *
 * Python: virtwire's own `pulumi-language-python` (scripts/pulumi-python: the Go module proxy
 * refuses Pulumi's at every version), put beside the same CLI by scripts/pulumi-python.sh, which
 * also makes a venv with `pulumi` from PyPI and the generated SDK (sdk/python) installed.
 * scripts/test.sh runs it beforehand and exports the venv as $VIRTWIRE_PYTHON_VENV.
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
  return process.env.VIRTWIRE_PULUMI_YAML_BIN || scriptOutput("pulumi-yaml.sh", "bin");
}

/** The output of `scripts/<script> <command>`, which prepares what it prints once per machine. */
async function scriptOutput(script: string, command: string): Promise<string> {
  const { stdout } = await run("bash", [path.join(REPO_ROOT, "scripts", script), command], {
    env: process.env,
    timeout: 900_000,
  });
  return stdout.trim();
}

/** The venv with `pulumi` and `pulumi_virtwire` that Python programs run in. */
export async function pythonVenv(): Promise<string> {
  return process.env.VIRTWIRE_PYTHON_VENV || scriptOutput("pulumi-python.sh", "venv");
}

/**
 * Writes a Pulumi Python project into `dir`: Pulumi.yaml with `name` and `runtime: python` in the
 * venv of pythonVenv(), and `__main__.py` with `program`.
 */
export async function writePythonProject(dir: string, name: string, program: string) {
  const runtime = `runtime:\n  name: python\n  options:\n    virtualenv: ${await pythonVenv()}\n`;
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: ${name}\n${runtime}`);
  fs.writeFileSync(path.join(dir, "__main__.py"), program);
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
