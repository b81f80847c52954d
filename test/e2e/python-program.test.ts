/**
 * A Pulumi Python program through the real CLI and virtwire's Python language host
 * (scripts/pulumi-python.sh): outputs only, no provider and no libvirt. It imports the generated
 * SDK (sdk/python) to show it loads in a real program; YAML's counterpart is yaml-program.test.ts.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writePythonProject } from "../support/languages";
import { PulumiProject } from "./pulumi-project";

const PROGRAM = `import pulumi
import pulumi_virtwire

config = pulumi.Config()
greeting = config.get("greeting") or "hello"
pulumi.export("message", pulumi.Output.from_input(greeting).apply(lambda g: f"{g}, python"))
pulumi.export("project", pulumi.get_project())
pulumi.export("sdk", pulumi_virtwire.Domain.__module__)
if config.get_bool("fail"):
    raise Exception("the program failed on purpose")
`;

let project: PulumiProject;

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vwtest-python-program-"));
  await writePythonProject(dir, "vwtest-python", PROGRAM);
  project = await PulumiProject.inDirectory(dir, "python");
});

afterAll(() => project?.remove());

test("pulumi up runs a Python program that imports the generated SDK", async () => {
  await project.pulumi("up", "--yes");
  expect(await project.outputs()).toEqual({
    message: "hello, python",
    project: "vwtest-python",
    sdk: "pulumi_virtwire.domain",
  });
});

test("a changed config value changes the outputs, and an unchanged program previews no changes", async () => {
  await project.setConfig("greeting", "hi");
  await project.pulumi("up", "--yes");
  expect(await project.outputs()).toMatchObject({ message: "hi, python" });
  await project.pulumi("preview", "--expect-no-changes");
});

test("a program's exception fails the update with the program's message", async () => {
  await project.setConfig("fail", "true");
  await expect(project.pulumi("up", "--yes")).rejects.toThrow(/the program failed on purpose/);
  await project.setConfig("fail", "false");
});

test("pulumi about names the Python host, and pulumi destroy leaves the stack empty", async () => {
  const about = JSON.parse((await project.pulumi("about", "--json")).stdout) as {
    runtime?: { language?: string };
  };
  expect(about.runtime?.language).toBe("python");
  await project.pulumi("destroy", "--yes");
  const state = JSON.parse((await project.pulumi("stack", "export")).stdout);
  expect(state.deployment.resources ?? []).toEqual([]);
});
