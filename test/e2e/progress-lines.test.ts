/**
 * What virtwire tells the user during `pulumi up`, `preview` and `refresh`, through the real
 * Pulumi CLI against the test bed: progress (an upload, the wait for a domain's address) on the
 * resource's row as ephemeral status lines, a summary line kept once, the way each change will be
 * applied (live / restart / replace) once per preview or up in the user's property names, nothing
 * of that kind during a refresh, and a diagnosis at preview for an interface that could only wait
 * in vain. Every line is attached to its resource's URN, as the engine's event log and
 * `preview --json` show. The steps run in order on one stack, with the test bed's tiny guest.
 */
import { randomBytes, randomInt } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Libvirt } from "../../rpc";
import { GUEST_CMDLINE, GUEST_INITRD, GUEST_KERNEL } from "../support/guest";
import { connectTestbed, isolatedNetworkXml } from "../support/testbed";
import { Diagnostic, diagnosticsOf, resourceOf } from "./event-log";
import { PulumiProject } from "./pulumi-project";
import { stackObjects } from "./state-report";

const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import * as virtwire from "virtwire";

const config = new pulumi.Config("ux");
const subnet = config.require("subnet");
const guest = {
  type: "qemu" as const,
  kernel: config.require("kernel"),
  initrd: config.require("initrd"),
  cmdline: config.require("cmdline"),
  shutdownTimeout: 5,
};
const net = new virtwire.Network("net", {
  mode: "isolated",
  addresses: [
    {
      address: \`\${subnet}.1\`,
      prefix: 24,
      dhcp: { ranges: [{ start: \`\${subnet}.100\`, end: \`\${subnet}.199\` }] },
    },
  ],
});
const pool = new virtwire.Pool("pool", {
  type: "dir",
  targetPath: config.require("poolPath"),
  deleteTargetOnDestroy: true,
});
new virtwire.Volume("image", { pool: pool.name, source: { path: config.require("image") } });
new virtwire.Domain("vm", {
  ...guest,
  memory: config.get("memory") ?? "128MiB",
  allowRestart: config.getBoolean("allowRestart") ?? true,
  networkInterfaces: [{ network: net.name }],
  waitForAddresses: { source: "lease", timeout: 120 },
  console: { type: "file", path: config.require("console") },
});
const bare = config.get("bareNetwork");
if (bare) {
  new virtwire.Domain("stranded", {
    ...guest,
    memory: "128MiB",
    networkInterfaces: [{ network: bare }],
    waitForAddresses: { source: "lease", timeout: 120 },
  });
}
`;

const suffix = randomBytes(3).toString("hex");
const subnet = `10.${randomInt(160, 200)}.${randomInt(0, 256)}`;
const poolPath = `/var/lib/libvirt/images/vwtest-ux-${suffix}`;
const bareNetwork = `vwtest-ux-bare-${suffix}`;

let project: PulumiProject;
let lv: Libvirt;
let source: string;
let scratch: string;
const timings: string[] = [];

/** Runs `pulumi <args> --event-log <file>`; returns the diagnostics and what the CLI printed. */
async function run(...args: string[]) {
  const log = path.join(scratch, `events-${randomBytes(4).toString("hex")}.json`);
  const { stdout, stderr, seconds } = await project.pulumi(...args, "--event-log", log);
  timings.push(`${args.join(" ")}: ${seconds.toFixed(1)} s`);
  return { diagnostics: diagnosticsOf(log), stdout, stderr };
}

/** Runs a command that must fail; returns the diagnostics and everything it printed. */
async function failing(...args: string[]): Promise<{ diagnostics: Diagnostic[]; output: string }> {
  const log = path.join(scratch, `events-${randomBytes(4).toString("hex")}.json`);
  const output = await project.pulumi(...args, "--event-log", log).then(
    () => {
      throw new Error(`pulumi ${args.join(" ")} passed; expected it to fail`);
    },
    (error: Error) => error.message,
  );
  return { diagnostics: diagnosticsOf(log), output };
}

/** virtwire's lines as `resource: [status] message`, in order. */
const virtwireLines = (diagnostics: Diagnostic[]) =>
  diagnostics
    .filter((d) => d.message.includes("virtwire: "))
    .map((d) => `${resourceOf(d.urn)}: ${d.ephemeral ? "[status] " : ""}${d.message}`);

beforeAll(async () => {
  lv = await connectTestbed();
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "vwtest-ux-"));
  source = path.join(scratch, "program");
  fs.mkdirSync(source);
  const lab = path.join(__dirname, "../../examples/lab");
  for (const file of ["package.json", "tsconfig.json"]) {
    fs.copyFileSync(path.join(lab, file), path.join(source, file));
  }
  fs.writeFileSync(path.join(source, "Pulumi.yaml"), "name: vwtest-ux\nruntime: nodejs\n");
  fs.writeFileSync(path.join(source, "index.ts"), PROGRAM);
  fs.writeFileSync(path.join(scratch, "image.raw"), randomBytes(24 << 20));
  // `--event-log` is one of the CLI's debug flags.
  project = await PulumiProject.create(source, `ux-${suffix}`, {
    env: { PULUMI_DEBUG_COMMANDS: "true" },
  });
  const settings = {
    "ux:subnet": subnet,
    "ux:poolPath": poolPath,
    "ux:image": path.join(scratch, "image.raw"),
    "ux:console": path.join(scratch, "vm.console"),
    "ux:kernel": GUEST_KERNEL,
    "ux:initrd": GUEST_INITRD,
    "ux:cmdline": GUEST_CMDLINE,
  };
  for (const [key, value] of Object.entries(settings)) await project.setConfig(key, value);
});

afterAll(async () => {
  await project?.pulumi("destroy", "--yes", "--skip-preview").catch(() => undefined);
  project?.remove();
  const bare = await lv?.NetworkLookupByName({ name: bareNetwork }).catch(() => undefined);
  if (bare) await lv.NetworkDestroy(bare).catch(() => undefined);
  await lv?.close();
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.rmSync(poolPath, { recursive: true, force: true });
  console.log(`progress lines e2e timings:\n  ${timings.join("\n  ")}`);
});

it("`pulumi up`: progress on the volume's and the domain's rows, one kept summary each", async () => {
  const { diagnostics, stdout } = await run("up", "--yes", "--skip-preview");
  const lines = virtwireLines(diagnostics);
  expect(lines).toContainEqual(
    expect.stringMatching(/^image: \[status\] virtwire: uploading \S+image\.raw: 0 % of 24 MiB$/),
  );
  expect(
    lines.filter((line) => /^image: virtwire: uploaded \S+image\.raw: 24 MiB in /.test(line)),
  ).toHaveLength(1);
  expect(lines).toContainEqual(
    expect.stringMatching(
      /^vm: \[status\] virtwire: domain vm-\w+: waiting for IP addresses \(waitForAddresses\.source lease\), 0 s of 120 s: 52:54:00:[0-9a-f:]+ on network net-\w+: no DHCP lease yet$/,
    ),
  );
  expect(
    lines.filter((line) =>
      /^vm: virtwire: domain vm-\w+: addresses 10\.\S+ after [\d.]+ s$/.test(line),
    ),
  ).toHaveLength(1);
  expect(lines.filter((line) => line.startsWith("(stack)"))).toEqual([]);
  // Status lines are never kept: none in the Diagnostics the CLI prints at the end.
  const printedDiagnostics = stdout.slice(stdout.indexOf("Diagnostics:"));
  expect(printedDiagnostics).not.toMatch(/waiting for IP addresses|uploading /);
});

/** The memory change of the steps below, as the summary line says it. */
const MEMORY_LINE = /^vm: virtwire: domain vm-\w+: memory 128MiB → 160MiB \[restart\]$/;

/** How often `text` occurs in `output`. */
const count = (output: string, text: RegExp) => output.match(new RegExp(text, "g"))?.length ?? 0;

it("`pulumi preview`: how the change will be applied, once, on the domain, in the user's terms", async () => {
  await project.setConfig("ux:memory", "160MiB");
  const { diagnostics, stdout, stderr } = await run("preview", "--diff");
  expect(virtwireLines(diagnostics)).toEqual([expect.stringMatching(MEMORY_LINE)]);
  // The diff display prints diagnostics on stderr as they come, so beside the diff on a terminal.
  expect(stdout).toMatch(/~ memory\s*: "128MiB" => "160MiB"/);
  expect(count(stderr, /memory 128MiB → 160MiB \[restart\]/)).toBe(1);
  // maxMemory was never set: it follows memory, and is not named.
  expect(stdout + stderr).not.toContain("maxMemory");
  const json = JSON.parse((await project.pulumi("preview", "--json")).stdout) as {
    diagnostics?: { urn?: string; message: string }[];
  };
  const kept = (json.diagnostics ?? []).filter((d) => d.message.includes("virtwire: "));
  expect(kept.map((d) => `${resourceOf(d.urn ?? "")}: ${d.message.trim()}`)).toEqual([
    expect.stringMatching(MEMORY_LINE),
  ]);
});

it("`pulumi preview` fails when the change needs a restart and allowRestart is false", async () => {
  await project.setConfig("ux:allowRestart", "false");
  const { diagnostics } = await failing("preview");
  const errors = diagnostics.filter((d) => d.severity === "error");
  expect(errors.map((d) => `${resourceOf(d.urn)}: ${d.message}`)).toEqual([
    expect.stringContaining("vm: Planning the change of domain vm-"),
  ]);
  expect(errors[0]!.message).toContain(
    "failed: allowRestart is false, and this change needs a restart of the running domain: memory 128MiB → 160MiB; nothing was changed: set allowRestart: true, or running: false",
  );
  await project.setConfig("ux:allowRestart", "true");
});

it("`pulumi up`: the same line once, the restart, and the wait for the new lease", async () => {
  const { diagnostics } = await run("up", "--yes", "--skip-preview");
  const lines = virtwireLines(diagnostics);
  const kept = lines.filter((line) => !line.includes("[status]"));
  expect(kept).toEqual([
    expect.stringMatching(MEMORY_LINE),
    expect.stringMatching(/^vm: virtwire: domain vm-\w+: stopped \(graceful\) to restart it$/),
    expect.stringMatching(/^vm: virtwire: domain vm-\w+: addresses 10\.\S+ after [\d.]+ s$/),
  ]);
  expect(lines).toContainEqual(expect.stringMatching(/^vm: \[status\] .*waiting for IP addresses/));
});

it("`pulumi refresh` after autostart was set behind Pulumi's back says nothing of applying it", async () => {
  const { domains } = stackObjects(await project.exportState());
  const { dom } = await lv.DomainLookupByName({ name: domains[0]! });
  await lv.DomainSetAutostart({ dom, autostart: 1 });
  const { diagnostics, stdout, stderr } = await run("refresh", "--yes", "--skip-preview", "--diff");
  expect(virtwireLines(diagnostics)).toEqual([]);
  expect(stderr).not.toContain("virtwire:");
  expect(stdout).toMatch(/autostart\s*: false => true/);
  // The next preview says how the program's autostart: false is applied again.
  const preview = await run("preview");
  expect(virtwireLines(preview.diagnostics)).toEqual([
    expect.stringMatching(/^vm: virtwire: domain vm-\w+: autostart true → false \[live\]$/),
  ]);
});

it("`pulumi preview` refuses an interface that could only wait in vain for a lease", async () => {
  await lv.NetworkCreateXML({
    xml: isolatedNetworkXml(bareNetwork, `10.${randomInt(200, 250)}.${randomInt(0, 256)}`, {
      dhcp: false,
    }),
  });
  await project.setConfig("ux:bareNetwork", bareNetwork);
  const started = Date.now();
  const { diagnostics } = await failing("preview");
  const errors = diagnostics.filter((d) => d.severity === "error");
  expect(errors.map((d) => `${resourceOf(d.urn)}: ${d.message}`)).toEqual([
    `stranded: pulumi-nodejs:dynamic/virtwire:Domain resource 'stranded' has a problem: networkInterfaces[0].network: network ${bareNetwork} has no DHCP server (no <dhcp> range), so no lease can appear: give the network a DHCP range, or use the guest agent (qemuAgent: true, waitForAddresses.source "any" or "agent")`,
  ]);
  expect(Date.now() - started).toBeLessThan(60_000);
  await project.pulumi("config", "rm", "ux:bareNetwork");
});
