/**
 * examples/lab through the provider plugin (`virtwire:plugin: true`), with the real Pulumi CLI
 * against the test bed: `up` makes the network, pool, images and three VMs as resources typed
 * `virtwire:index:…`, a second preview shows no changes, a memory change previews with its class,
 * `refresh` finds nothing changed, and `destroy` leaves nothing in libvirt. The steps share one
 * stack, in order.
 */
import { randomBytes, randomInt } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import type { Libvirt } from "../../rpc";
import { GUEST_CMDLINE, GUEST_INITRD, GUEST_KERNEL } from "../support/guest";
import { REPO_ROOT } from "../support/program-dir";
import { TEST_URI, connectTestbed } from "../support/testbed";
import { inventory } from "./libvirt-inventory";
import { PulumiProject } from "./pulumi-project";
import { stackObjects } from "./state-report";

const suffix = randomBytes(3).toString("hex");
const subnet = `10.${randomInt(160, 200)}.${randomInt(0, 256)}`;
const poolPath = `/var/lib/libvirt/images/vwtest-plugin-lab-${suffix}`;
const timings: string[] = [];
const libvirtPassword = `lv-${randomBytes(9).toString("hex")}`;

describe("examples/lab through the provider plugin", () => {
  let project: PulumiProject;
  let lv: Libvirt;
  let created: ReturnType<typeof stackObjects>;
  let destroyed = false;
  const timed = async <T extends { seconds: number }>(what: string, command: Promise<T>) => {
    const result = await command;
    timings.push(`${what}: ${result.seconds.toFixed(1)} s`);
    return result;
  };

  beforeAll(async () => {
    lv = await connectTestbed();
    project = await PulumiProject.create(path.join(REPO_ROOT, "examples/lab"), `plugin-${suffix}`, {
      plugin: true,
    });
    fs.writeFileSync(
      path.join(project.dir, "test-guest.img"),
      gunzipSync(fs.readFileSync(GUEST_INITRD)),
    );
    const settings: Record<string, string> = {
      "virtwire:plugin": "true",
      "virtwire:uri": TEST_URI,
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
    await project.setConfig("lab:password", `vm-${randomBytes(9).toString("hex")}`, {
      secret: true,
    });
    // Not needed by the test bed (no SASL); set to prove the default provider keeps it secret.
    await project.setConfig("virtwire:password", libvirtPassword, { secret: true });
  });

  afterAll(async () => {
    if (project && !destroyed) {
      await project.pulumi("destroy", "--yes", "--skip-preview").catch(() => undefined);
    }
    project?.remove();
    await lv?.close();
    console.log(`examples/lab through the plugin, timings:\n  ${timings.join("\n  ")}`);
  });

  it("`pulumi up` makes the lab with resources of the plugin's types", async () => {
    await timed("up (3 VMs)", project.pulumi("up", "--yes", "--skip-preview"));
    const state = await project.exportState();
    created = stackObjects(state);
    expect(created.domains).toHaveLength(3);
    expect(created.volumes).toHaveLength(7);
    expect(state).toContain('"type": "virtwire:index:Domain"');
    expect(state).not.toContain("pulumi-nodejs:dynamic");
    expect(state).not.toContain(libvirtPassword);
    const ips = (await project.outputs()).addresses as Record<string, string>;
    expect(Object.keys(ips).sort()).toEqual(["vm1", "vm2", "vm3"]);
  });

  it("a second preview shows no changes, and a memory change names its class", async () => {
    await timed("preview", project.pulumi("preview", "--expect-no-changes"));
    await project.setConfig("lab:memoryByVm.vm2", "160MiB", { path: true });
    const preview = await project.pulumi("preview");
    expect(preview.stdout).toMatch(
      /vm2 update \[diff: ~memory\]; virtwire: domain vm2-\w+: memory 128MiB → 160MiB \[restart\]/,
    );
    await project.setConfig("lab:memoryByVm.vm2", "128MiB", { path: true });
  });

  it("`pulumi refresh` finds everything as it was", async () => {
    await timed("refresh", project.pulumi("refresh", "--yes", "--skip-preview"));
    await project.pulumi("preview", "--expect-no-changes");
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
  });
});
