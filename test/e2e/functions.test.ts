/**
 * virtwire's functions in a TypeScript program through the real Pulumi CLI against the test bed:
 * getNodeInfo on the default host and getDomainCapabilitiesOutput on a `virtwire:hosts` entry,
 * reading the stack's virtwire config as resources do; they run in preview too, make nothing, and
 * their results are the stack's outputs.
 */
import * as path from "node:path";
import { Libvirt } from "../../rpc";
import { connectTestbed } from "../support/testbed";
import { PulumiProject } from "./pulumi-project";

const uri = process.env.VIRTWIRE_TEST_URI ?? "qemu:///system";

let project: PulumiProject;
let lv: Libvirt;

beforeAll(async () => {
  lv = await connectTestbed();
  project = await PulumiProject.create(path.join(__dirname, "functions-program"), "functions");
  await project.setConfig("virtwire:uri", uri);
  await project.setConfig("virtwire:hosts.second.uri", uri, { path: true });
});

afterAll(async () => {
  await project?.pulumi("destroy", "--yes", "--skip-preview").catch(() => undefined);
  project?.remove();
  await lv?.close();
});

it("answers in preview and exports the results of up, making nothing", async () => {
  const preview = await project.pulumi("preview");
  expect(preview.stdout).not.toMatch(/error/i);

  await project.pulumi("up", "--yes", "--skip-preview");
  const { node, q35 } = (await project.outputs()) as {
    node: Record<string, unknown>;
    q35: Record<string, unknown>;
  };
  const [{ hostname }, info] = await Promise.all([lv.ConnectGetHostname(), lv.NodeGetInfo()]);
  expect(node).toEqual({
    hostname,
    cpus: info.cpus,
    memory: Number(info.memory) * 1024,
    arch: "x86_64",
    libvirtVersion: expect.stringMatching(/^\d+\.\d+\.\d+$/),
    hypervisor: "QEMU",
  });
  expect(q35).toEqual({
    machine: expect.stringMatching(/^pc-q35-/),
    hasQ35: true,
    secureBoot: true,
    firmwarePaths: expect.arrayContaining(["/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"]),
    cpuModes: expect.arrayContaining(["host-model", "custom"]),
    diskBuses: expect.arrayContaining(["virtio", "sata"]),
  });
  const { deployment } = JSON.parse(await project.exportState()) as {
    deployment: { resources: { type: string }[] };
  };
  expect(deployment.resources.map((resource) => resource.type)).toEqual(["pulumi:pulumi:Stack"]);
});
