/**
 * A small lab in Pulumi YAML through the provider plugin, with the real Pulumi CLI, Pulumi's YAML
 * language host and the test bed: `up` makes a network, a pool, a volume (the tiny guest's
 * initramfs as its image) and a VM (type qemu, direct kernel boot) that waits for its DHCP lease;
 * `refresh` finds nothing changed, a preview shows no changes, and `destroy` leaves nothing of the
 * stack in libvirt. One stack for all steps, in order, so the guest boots once.
 */
import { randomBytes, randomInt } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import type { Libvirt } from "../../rpc";
import { GUEST_CMDLINE, GUEST_INITRD, GUEST_KERNEL } from "../support/guest";
import { writeYamlProject, yamlProjectEnv } from "../support/languages";
import { packVirtwire, prepareProgramDir } from "../support/program-dir";
import { TEST_URI, connectTestbed } from "../support/testbed";
import { inventory } from "./libvirt-inventory";
import { PulumiProject } from "./pulumi-project";
import { stackObjects } from "./state-report";
import { sweep } from "./sweep";

const marker = `vwtest-yamllab-${randomBytes(3).toString("hex")}`;
const subnet = `10.${randomInt(160, 200)}.${randomInt(0, 256)}`;
const poolPath = `/var/lib/libvirt/images/${marker}`;
const timings: string[] = [];

/** The program: every libvirt object named after `marker`, the image a file beside it. */
function program(image: string): string {
  return `resources:
  net:
    type: virtwire:index:Network
    properties:
      name: ${marker}
      mode: isolated
      addresses:
        - address: ${subnet}.1
          prefix: 24
          dhcp:
            ranges:
              - start: ${subnet}.100
                end: ${subnet}.199
  pool:
    type: virtwire:index:Pool
    properties:
      name: ${marker}
      type: dir
      targetPath: ${poolPath}
      deleteTargetOnDestroy: true
  disk:
    type: virtwire:index:Volume
    properties:
      name: disk.img
      pool: \${pool.name}
      source:
        path: ${image}
  vm:
    type: virtwire:index:Domain
    properties:
      name: ${marker}
      type: qemu
      memory: 128MiB
      vcpu: 1
      kernel: ${GUEST_KERNEL}
      initrd: ${GUEST_INITRD}
      cmdline: ${GUEST_CMDLINE}
      disks:
        - volume:
            pool: \${pool.name}
            name: \${disk.name}
      networkInterfaces:
        - network: \${net.name}
      waitForAddresses:
        source: lease
        timeout: 120
      shutdownTimeout: 30
outputs:
  address: \${vm.ipAddress}
  domain: \${vm.name}
`;
}

describe("a YAML lab through the provider plugin", () => {
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
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${marker}-`));
    const image = path.join(dir, "test-guest.img");
    fs.writeFileSync(image, gunzipSync(fs.readFileSync(GUEST_INITRD)));
    writeYamlProject(dir, "vwtest-yaml-lab", program(image));
    const packages = await prepareProgramDir([await packVirtwire()]);
    project = await PulumiProject.inDirectory(dir, "lab", {
      env: await yamlProjectEnv(),
      plugin: packages.dir,
    });
    await project.setConfig("virtwire:uri", TEST_URI);
  });

  afterAll(async () => {
    // After a failure midway: take the stack down, then remove whatever it still left behind.
    if (project && !destroyed) {
      await project.pulumi("destroy", "--yes", "--skip-preview").catch((error: Error) => {
        console.log(`pulumi destroy after a failure: ${error.message.slice(0, 2000)}`);
      });
    }
    const left = lv ? await sweep(lv, marker, poolPath) : [];
    project?.remove();
    await lv?.close();
    console.log(`the YAML lab through the plugin, timings:\n  ${timings.join("\n  ")}`);
    expect(left).toEqual([]);
  });

  it("`pulumi up` makes the network, pool, volume and a VM that gets a DHCP address", async () => {
    await timed("up (1 VM to its address)", project.pulumi("up", "--yes", "--skip-preview"));
    const state = await project.exportState();
    created = stackObjects(state);
    expect(created).toMatchObject({ domains: [marker], networks: [marker], pools: [marker] });
    expect(created.volumes).toEqual([`${poolPath}/disk.img`]);
    expect(state).toContain('"type": "virtwire:index:Domain"');
    const { address, domain } = await project.outputs();
    expect(domain).toBe(marker);
    expect(address).toMatch(new RegExp(`^${subnet.replace(/\./g, "\\.")}\\.1\\d\\d$`));
  });

  it("`pulumi refresh` finds everything as it was, and a preview shows no changes", async () => {
    await timed("refresh", project.pulumi("refresh", "--yes", "--expect-no-changes"));
    await timed("preview", project.pulumi("preview", "--expect-no-changes"));
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
