/**
 * A Pulumi YAML program through the real CLI and Pulumi's own YAML language host (built from the
 * pulumi-yaml Go module by scripts/pulumi-yaml.sh): outputs only, no provider and no libvirt, so
 * it shows the host itself works offline before YAML programs use virtwire's provider plugin.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeYamlProject, yamlProjectEnv } from "../support/languages";
import { PulumiProject } from "./pulumi-project";

const PROGRAM = `config:
  greeting:
    type: string
    default: hello
variables:
  message:
    fn::join:
      - ", "
      - - \${greeting}
        - yaml
outputs:
  message: \${message}
  project: \${pulumi.project}
`;

let project: PulumiProject;

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vwtest-yaml-program-"));
  writeYamlProject(dir, "vwtest-yaml", PROGRAM);
  project = await PulumiProject.inDirectory(dir, "yaml", { env: await yamlProjectEnv() });
});

afterAll(() => project?.remove());

test("pulumi up runs a YAML program and records its outputs", async () => {
  await project.pulumi("up", "--yes");
  expect(await project.outputs()).toEqual({ message: "hello, yaml", project: "vwtest-yaml" });
});

test("a changed config value changes the outputs, and an unchanged program previews no changes", async () => {
  await project.setConfig("greeting", "hi");
  await project.pulumi("up", "--yes");
  expect(await project.outputs()).toEqual({ message: "hi, yaml", project: "vwtest-yaml" });
  await project.pulumi("preview", "--expect-no-changes");
});

test("pulumi about names the YAML host, and no plugin was downloaded", async () => {
  const about = JSON.parse((await project.pulumi("about", "--json")).stdout) as {
    runtime?: { language?: string };
  };
  expect(about.runtime?.language).toBe("yaml");
  expect(JSON.parse((await project.pulumi("plugin", "ls", "--json")).stdout)).toEqual([]);
});

test("pulumi destroy leaves the stack empty", async () => {
  await project.pulumi("destroy", "--yes");
  expect(
    JSON.parse((await project.pulumi("stack", "export")).stdout).deployment.resources ?? [],
  ).toEqual([]);
});
