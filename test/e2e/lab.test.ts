/**
 * examples/lab through the real Pulumi CLI against the test bed, as a user runs it: `up` creates
 * the network, pool, base image and three VMs and outputs their addresses; a second preview shows
 * no changes; the README's quick-start ping line reaches vm1 through `lab.sh address`; one VM's
 * memory changes only that VM; a domain deleted behind Pulumi's back is found
 * by `refresh` and recreated by `up`; the state holds no secret, no path of this machine and a
 * 260-byte provider stub; `destroy` leaves nothing in libvirt. The steps run in order and share
 * one stack.
 */
import { execFile } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import type { Libvirt } from "../../rpc";
import { readmeSnippets } from "../../scripts/readme-snippets";
import { GUEST_CMDLINE, GUEST_INITRD, GUEST_KERNEL } from "../support/guest";
import { REPO_ROOT } from "../support/program-dir";
import { connectTestbed } from "../support/testbed";
import { inventory } from "./libvirt-inventory";
import { PulumiProject } from "./pulumi-project";
import { absolutePaths, sizeReport, stackObjects } from "./state-report";

const suffix = randomBytes(3).toString("hex");
const subnet = `10.${randomInt(160, 200)}.${randomInt(0, 256)}`;
const poolPath = `/var/lib/libvirt/images/vwtest-e2e-${suffix}`;
const vmPassword = `vm-${randomBytes(9).toString("hex")}`;
const libvirtPassword = `lv-${randomBytes(9).toString("hex")}`;
const timings: string[] = [];
const run = promisify(execFile);

describe("examples/lab with the Pulumi CLI", () => {
  let project: PulumiProject;
  let lv: Libvirt;
  let created: ReturnType<typeof stackObjects>;
  let state = "";
  let destroyed = false;

  const liveId = async (name: string) => (await lv.DomainLookupByName({ name })).dom.id;
  const addresses = async () => (await project.outputs()).addresses as Record<string, string>;
  const timed = async (what: string, command: Promise<{ seconds: number }>) => {
    const { seconds } = await command;
    timings.push(`${what}: ${seconds.toFixed(1)} s`);
  };

  beforeAll(async () => {
    lv = await connectTestbed();
    project = await PulumiProject.create(path.join(REPO_ROOT, "examples/lab"), `e2e-${suffix}`);
    // The base image, beside the program and named relatively, as a user would give one.
    fs.writeFileSync(
      path.join(project.dir, "test-guest.img"),
      gunzipSync(fs.readFileSync(GUEST_INITRD)),
    );
    const settings: Record<string, string> = {
      "lab:image": "test-guest.img",
      "lab:domainType": "qemu",
      "lab:kernel": GUEST_KERNEL,
      "lab:initrd": GUEST_INITRD,
      "lab:cmdline": GUEST_CMDLINE,
      "lab:memory": "128MiB",
      "lab:subnet": subnet,
      "lab:poolPath": poolPath,
      "lab:addressTimeout": "120",
    };
    for (const [key, value] of Object.entries(settings)) await project.setConfig(key, value);
    await project.setConfig("lab:password", vmPassword, { secret: true });
    // Not needed by the test bed (no SASL); set to prove it never reaches the state in clear.
    await project.setConfig("virtwire:password", libvirtPassword, { secret: true });
  });

  afterAll(async () => {
    // After a failure midway: take down whatever is left, then the scratch directory.
    if (project && !destroyed) {
      await project.pulumi("destroy", "--yes", "--skip-preview").catch(() => undefined);
    }
    project?.remove();
    await lv?.close();
    console.log(`examples/lab e2e timings:\n  ${timings.join("\n  ")}`);
  });

  it("`pulumi up` creates the network, pool, volumes and three VMs and outputs their addresses", async () => {
    await timed("up (3 VMs, create to leases)", project.pulumi("up", "--yes", "--skip-preview"));
    state = await project.exportState();
    created = stackObjects(state);
    const ips = await addresses();
    expect(Object.keys(ips).sort()).toEqual(["vm1", "vm2", "vm3"]);
    for (const ip of Object.values(ips)) {
      expect(ip).toMatch(new RegExp(`^${subnet.replace(/\./g, "\\.")}\\.1\\d\\d$`));
    }
    expect(new Set(Object.values(ips)).size).toBe(3);
    expect(created.domains).toHaveLength(3);
    expect(created.networks).toHaveLength(1);
    expect(created.pools).toHaveLength(1);
    expect(created.volumes).toHaveLength(7); // the base, three overlays, three seeds
    const live = await inventory(lv);
    expect(live.domains).toEqual(expect.arrayContaining(created.domains));
    expect(live.volumes).toEqual(expect.arrayContaining(created.volumes));
  });

  it("the README's quick-start line pings vm1, at the address `lab.sh address vm1` reads from the stack", async () => {
    const ping = readmeSnippets(path.join(REPO_ROOT, "README.md")).find(
      (snippet) => snippet.id === "quick-start-ping",
    )!;
    // lab.sh's state directory as `lab.sh up` leaves it: the backend and the passphrase file.
    const state = fs.mkdtempSync(path.join(os.tmpdir(), "vwtest-lab-sh-"));
    try {
      fs.symlinkSync(path.join(project.dir, ".state"), path.join(state, "backend"));
      fs.writeFileSync(path.join(state, "passphrase"), project.env.PULUMI_CONFIG_PASSPHRASE!);
      const env = {
        ...project.env,
        VIRTWIRE_LAB_STATE: state,
        VIRTWIRE_LAB_STACK: `e2e-${suffix}`,
      };
      // What ping and lab.sh said, in the failure too.
      const { stdout } = await run("bash", ["-c", ping.code], { cwd: REPO_ROOT, env }).catch(
        // execFile's message holds the command and its stderr already.
        (error: { message: string; stdout: string }) => {
          throw new Error(`${error.message}\n${error.stdout}`);
        },
      );
      // Five pings, not one: the lease can be out before the guest has put the address on its NIC,
      // and a lone echo request sent then is dropped with the ARP request nobody answers.
      expect(stdout).toMatch(/5 packets transmitted, [1-5] packets received/);
      expect(stdout).toContain(`PING ${(await addresses()).vm1} `);
    } finally {
      fs.rmSync(state, { recursive: true, force: true });
    }
  });

  it("a second `pulumi preview` shows no changes", async () => {
    await timed("preview --expect-no-changes", project.pulumi("preview", "--expect-no-changes"));
  });

  it("changing one VM's memory updates only that VM", async () => {
    const [vm1, vm2, vm3] = created.domains.sort();
    const before = { vm1: await liveId(vm1!), vm3: await liveId(vm3!) };
    await project.setConfig("lab:memoryByVm.vm2", "160MiB", { path: true });
    expect(await project.plannedChanges()).toEqual(["update vm2"]);
    await timed("up (memory of vm2: restart)", project.pulumi("up", "--yes", "--skip-preview"));
    const { dom } = await lv.DomainLookupByName({ name: vm2! });
    expect((await lv.DomainGetInfo({ dom })).memory).toBe(160n * 1024n); // KiB
    expect({ vm1: await liveId(vm1!), vm3: await liveId(vm3!) }).toEqual(before);
    await project.pulumi("preview", "--expect-no-changes");
  });

  it("a domain deleted outside Pulumi is found by `refresh` and recreated by `up`", async () => {
    const vm3 = created.domains.sort()[2]!;
    const { dom } = await lv.DomainLookupByName({ name: vm3 });
    await lv.DomainDestroy({ dom });
    await lv.DomainUndefineFlags({ dom, flags: 0 });
    await timed("refresh", project.pulumi("refresh", "--yes", "--skip-preview"));
    expect(stackObjects(await project.exportState()).domains).not.toContain(vm3);
    expect(await project.plannedChanges()).toEqual(["create vm3"]);
    await timed("up (recreate vm3)", project.pulumi("up", "--yes", "--skip-preview"));
    state = await project.exportState();
    created = stackObjects(state);
    const recreated = created.domains.find((name) => name.startsWith("vm3-"));
    // The same name: auto-names are derived from the URN and the inputs, which did not change.
    expect(recreated).toBe(vm3);
    expect((await inventory(lv)).domains).toContain(recreated);
    expect((await addresses()).vm3).toMatch(/^10\./);
  });

  it("the state records where in index.ts each resource is declared, as Pulumi maps it", () => {
    // Pulumi takes it from a stack trace it reads while the resource registers, when virtwire's SDK
    // formats every other trace read then as its first line only (sdk/index.ts, headerOnlyStackTraces).
    const lines = fs
      .readFileSync(path.join(REPO_ROOT, "examples/lab/index.ts"), "utf8")
      .split("\n");
    const declared = (text: string) => {
      const line = lines.findIndex((l) => l.includes(text));
      return `project:///index.ts#${line + 1},${lines[line]!.indexOf(text) + 1}`;
    };
    const resources: { urn: string; sourcePosition?: string }[] =
      JSON.parse(state).deployment.resources;
    const position = (suffix: string) =>
      resources.find((r) => r.urn.endsWith(suffix))?.sourcePosition;
    expect(position(":Network::lab")).toBe(declared("new virtwire.Network("));
    expect(position(":Pool::lab")).toBe(declared("new virtwire.Pool("));
    expect(position(":Domain::vm2")).toBe(declared("new virtwire.Domain("));
  });

  it("the state holds no secret and no path of this machine; sizes per resource", () => {
    expect(state).not.toContain(vmPassword);
    expect(state).not.toContain(libvirtPassword);
    // (Source positions are recorded relative to the project: `project:///index.ts#87,18`.)
    for (const local of [project.dir, REPO_ROOT, os.homedir()]) {
      expect(state).not.toContain(local);
    }
    // Absolute paths only of what the program names on the libvirt host.
    const allowed = [poolPath, GUEST_KERNEL, GUEST_INITRD];
    const paths = absolutePaths(state);
    expect(paths.filter((p) => !allowed.some((prefix) => p.startsWith(prefix)))).toEqual([]);
    const { rows, total, providers } = sizeReport(state);
    expect(providers).toEqual([expect.stringContaining('require("virtwire/provider")')]);
    expect(providers[0]!.length).toBeLessThan(400);
    console.log(
      `state: ${total} bytes for ${rows.reduce((n, row) => n + row.count, 0)} resources; ` +
        `__provider ${providers[0]!.length} bytes\n` +
        rows
          .map(
            (row) =>
              `  ${row.type}: ${row.count} × ${row.bytesEach} bytes ` +
              `(inputs ${row.inputsEach}, outputs ${row.outputsEach})`,
          )
          .join("\n"),
    );
  });

  it("`pulumi destroy` leaves nothing of the stack in libvirt", async () => {
    await timed("destroy", project.pulumi("destroy", "--yes", "--skip-preview"));
    destroyed = true;
    const live = await inventory(lv);
    expect(live.domains.filter((name) => created.domains.includes(name))).toEqual([]);
    expect(live.networks.filter((name) => created.networks.includes(name))).toEqual([]);
    expect(live.pools.filter((name) => created.pools.includes(name))).toEqual([]);
    expect(live.volumes.filter((key) => created.volumes.includes(key))).toEqual([]);
    expect(fs.existsSync(poolPath)).toBe(false);
    expect(JSON.parse(await project.exportState()).deployment.resources ?? []).toEqual([]);
  });
});
