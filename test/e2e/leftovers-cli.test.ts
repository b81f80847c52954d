/**
 * The Pulumi CLI killed (SIGKILL) in the middle of `pulumi up`, while the daemon starts three
 * domains: the real CLI, our language host and the dynamic-provider plugin, against a private
 * libvirtd of the test's own (the shared test bed daemon is never touched). The CLI leaves its lock
 * and pending creates in the state: `pulumi cancel` removes the lock, the next `pulumi up` removes
 * what the killed run left in libvirt and makes the lab, and `pulumi refresh
 * --clear-pending-creates` drops the pending creates. In the end every
 * object of the daemon is in the state and every state entry in the daemon, without virsh.
 */
import { once } from "node:events";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { mismatches } from "../support/daemon-objects";
import { GUEST_CMDLINE, GUEST_INITRD, GUEST_KERNEL } from "../support/guest";
import { PrivateDaemon } from "../support/private-daemon";
import { PulumiProject } from "./pulumi-project";
import { resourcesOf } from "./state-report";

/** The lab of leftovers-faults.test.ts as a Pulumi program. */
const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import * as virtwire from "virtwire";

const config = new pulumi.Config("faults");
const dir = config.require("dir");
const pool = new virtwire.Pool("lab", { type: "dir", targetPath: \`\${dir}/pool\` });
const base = new virtwire.Volume("base", { pool: pool.name, capacity: "64MiB", format: "qcow2" });
for (const vm of ["vm1", "vm2", "vm3"]) {
  const disk = new virtwire.Volume(\`\${vm}-disk\`, { pool: pool.name, baseVolume: { key: base.key } });
  new virtwire.Domain(vm, {
    type: "qemu",
    memory: "128MiB",
    kernel: config.require("kernel"),
    initrd: config.require("initrd"),
    cmdline: config.require("cmdline"),
    disks: [{ volume: { pool: pool.name, name: disk.name } }],
    console: { type: "file", path: \`\${dir}/\${vm}.console\` },
    shutdownTimeout: 5,
  });
}
`;

let daemon: PrivateDaemon;
let project: PulumiProject;
let source: string;

beforeAll(async () => {
  daemon = await PrivateDaemon.start();
  source = fs.mkdtempSync(path.join(os.tmpdir(), "vwtest-faults-program-"));
  const lab = path.join(__dirname, "../../examples/lab");
  for (const file of ["package.json", "tsconfig.json"]) {
    fs.copyFileSync(path.join(lab, file), path.join(source, file));
  }
  fs.writeFileSync(path.join(source, "Pulumi.yaml"), "name: vwtest-faults\nruntime: nodejs\n");
  fs.writeFileSync(path.join(source, "index.ts"), PROGRAM);
  project = await PulumiProject.create(source, `faults-${path.basename(daemon.dir).slice(-6)}`);
  const settings = {
    "virtwire:uri": daemon.uri,
    "faults:dir": daemon.dir,
    "faults:kernel": GUEST_KERNEL,
    "faults:initrd": GUEST_INITRD,
    "faults:cmdline": GUEST_CMDLINE,
  };
  for (const [key, value] of Object.entries(settings)) await project.setConfig(key, value);
});

afterAll(async () => {
  await project?.pulumi("destroy", "--yes", "--skip-preview").catch(() => undefined);
  project?.remove();
  fs.rmSync(source, { recursive: true, force: true });
  await daemon?.dispose();
});

async function stateIds(): Promise<string[]> {
  return resourcesOf(await project.exportState())
    .filter((resource) => resource.type.startsWith("pulumi-nodejs:dynamic/virtwire:"))
    .map((resource) => String(resource.id));
}

it("a killed `pulumi up`: the next up removes its leftovers and makes the lab", async () => {
  const cli = project.spawn("up", "--yes", "--skip-preview");
  let output = "";
  cli.stdout!.on("data", (chunk) => (output += chunk));
  cli.stderr!.on("data", (chunk) => (output += chunk));
  const exited = once(cli, "exit");
  const deadline = Date.now() + 240_000;
  while (daemon.qemuPids("guests").length === 0) {
    if (Date.now() > deadline || cli.exitCode !== null) {
      throw new Error(`no guest was started:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  cli.kill("SIGKILL");
  await exited;
  const pending = JSON.parse(await project.exportState()).deployment.pending_operations ?? [];
  console.log(`killed CLI: ${pending.length} pending operations`);

  // A file backend keeps the killed run's lock: `pulumi cancel` removes it (nothing runs any more).
  await project.pulumi("cancel", "--yes");
  const recovery = await project.pulumi("up", "--yes", "--skip-preview");
  console.log(`killed CLI: the recovery up took ${recovery.seconds.toFixed(1)} s`);
  expect(recovery.stdout).toMatch(/removed, left by a failed earlier create of this resource/);
  await project.pulumi("refresh", "--yes", "--skip-preview", "--clear-pending-creates");
  expect(JSON.parse(await project.exportState()).deployment.pending_operations ?? []).toEqual([]);
  expect(await mismatches(daemon.uri, await stateIds())).toEqual({
    notInState: [],
    notInDaemon: [],
  });
  await project.pulumi("preview", "--expect-no-changes");
});
