/**
 * A small lab through the provider plugin in a language other than TypeScript, with the real
 * Pulumi CLI and the test bed: `up` makes a network, a pool, a volume (the tiny guest's initramfs
 * as its image) and a VM (type qemu, direct kernel boot) that waits for its DHCP lease; `refresh`
 * finds nothing changed, a preview shows no changes, and `destroy` leaves nothing of the stack in
 * libvirt. One stack for all steps, in order, so the guest boots once (about a minute in all).
 * plugin-yaml-lab.test.ts and plugin-python-lab.test.ts write the program; this runs it.
 */
import { randomBytes, randomInt } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import type { Libvirt } from "../../rpc";
import { GUEST_INITRD } from "../support/guest";
import { packVirtwire, prepareProgramDir } from "../support/program-dir";
import { connectTestbed, uniqueName } from "../support/testbed";
import { inventory } from "./libvirt-inventory";
import { PulumiProject } from "./pulumi-project";
import { stackObjects } from "./state-report";
import { sweep } from "./sweep";

/** What a lab program is made of: every libvirt object is named `marker`, the volume `disk.img`. */
export interface LabSettings {
  marker: string;
  /** The network is `<subnet>.0/24`, the guest's lease in `.100`–`.199`. */
  subnet: string;
  /** The pool's directory. */
  poolPath: string;
  /** A scratch directory for the project (the image is in it). */
  dir: string;
  /** The volume's image: a file in `dir`. */
  image: string;
  /** The PATH entries of the package whose plugin `pulumi-resource-virtwire` the CLI runs. */
  plugin: string;
  /**
   * A libvirt password for the program to give its provider as a secret (the test bed's unix
   * socket asks for none): it must not reach the state.
   */
  password: string;
}

/** The name of the provider each resource of the stack went through (`default` for stack config). */
function providersByResource(state: string): Record<string, string> {
  const { resources = [] } = (
    JSON.parse(state) as { deployment: { resources?: { urn: string; provider?: string }[] } }
  ).deployment;
  const byName: Record<string, string> = {};
  for (const { urn, provider } of resources) {
    if (!provider) continue;
    const [providerUrn] = provider.split("::").slice(-2);
    byName[urn.split("::").pop()!] = providerUrn!.replace(/_\d+_\d+_\d+$/, "");
  }
  return byName;
}

/**
 * Runs the lab steps as tests under `title`, on the project `makeProject` writes into `dir`; the
 * program exports `address` (the VM's) and `domain` (its name). `providers` names the provider
 * each resource (`net`, `pool`, `disk`, `vm`) goes through.
 */
export function describeLab(
  title: string,
  purpose: string,
  providers: Record<string, string>,
  makeProject: (lab: LabSettings) => Promise<PulumiProject>,
): void {
  const marker = uniqueName(purpose);
  const subnet = `10.${randomInt(160, 200)}.${randomInt(0, 256)}`;
  const poolPath = `/var/lib/libvirt/images/${marker}`;
  const password = `lv-${randomBytes(9).toString("hex")}`;
  const timings: string[] = [];

  describe(title, () => {
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
      const plugin = (await prepareProgramDir([await packVirtwire()])).dir;
      project = await makeProject({ marker, subnet, poolPath, dir, image, plugin, password });
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
      console.log(`${title}, timings:\n  ${timings.join("\n  ")}`);
      expect(left).toEqual([]);
    });

    it("`pulumi up` makes the network, pool, volume and a VM that gets a DHCP address", async () => {
      await timed("up (1 VM to its address)", project.pulumi("up", "--yes", "--skip-preview"));
      const state = await project.exportState();
      created = stackObjects(state);
      expect(created).toMatchObject({ domains: [marker], networks: [marker], pools: [marker] });
      expect(created.volumes).toEqual([`${poolPath}/disk.img`]);
      expect(state).toContain('"type": "virtwire:index:Domain"');
      expect(providersByResource(state)).toEqual(providers);
      expect(state).not.toContain(password);
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
}
