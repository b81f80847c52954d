/**
 * What `pulumi preview` prints for bad inputs, through the real Pulumi CLI against the test bed:
 * one clean line per problem (the resource, the property path, the fix), no dump of a value, no
 * stack trace, no message twice; a change refused by diff likewise; and nothing made in libvirt.
 */
import { randomInt } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { Libvirt, RemoteNonnullStoragePool } from "../../rpc";
import { noise, ownInventory } from "../support/bad-inputs";
import { connectTestbed, dirPoolXml, removePool, uniqueName } from "../support/testbed";
import type { Inventory } from "./libvirt-inventory";
import { PulumiProject } from "./pulumi-project";

const run = uniqueName("bad");
const subnet = `10.${randomInt(160, 200)}.${randomInt(0, 256)}`;
const NETWORK = "pulumi-nodejs:dynamic/virtwire:Network";

let project: PulumiProject;
let lv: Libvirt;
let pool: RemoteNonnullStoragePool;
let poolDir: string;
let before: Inventory;

/** The lines under `Diagnostics:` of a failed command's output. */
function diagnostics(output: string): string[] {
  const start = output.indexOf("Diagnostics:");
  const end = output.indexOf("Resources:", start);
  return output
    .slice(start, end < 0 ? undefined : end)
    .split("\n")
    .slice(1)
    .map((line) => line.trim())
    .filter(Boolean);
}

async function failing(...args: string[]): Promise<string> {
  const error = await project.pulumi(...args).then(
    () => undefined,
    (e: Error) => e,
  );
  if (!error) throw new Error(`pulumi ${args.join(" ")} passed; expected it to fail`);
  return error.message;
}

beforeAll(async () => {
  lv = await connectTestbed();
  before = await ownInventory(lv, run);
  poolDir = await mkdtemp(path.join(tmpdir(), `${run}-`));
  ({ pool } = await lv.StoragePoolCreateXML({ xml: dirPoolXml(`${run}-pool`, poolDir), flags: 0 }));
  project = await PulumiProject.create(path.join(__dirname, "bad-inputs-program"), "bad");
  for (const [key, value] of Object.entries({
    "virtwire:uri": process.env.VIRTWIRE_TEST_URI ?? "qemu:///system",
    "bad:prefix": run,
    "bad:subnet": subnet,
    "bad:pool": `${run}-pool`,
  })) {
    await project.setConfig(key, value);
  }
});

afterAll(async () => {
  await project?.pulumi("destroy", "--yes", "--skip-preview").catch(() => undefined);
  project?.remove();
  if (pool) await removePool(lv, pool).catch(() => undefined);
  await lv?.close();
  if (poolDir) await rm(poolDir, { recursive: true, force: true });
});

describe("pulumi preview of bad inputs", () => {
  it("prints one clean line per problem of a network, each once", async () => {
    await project.setConfig("bad:stage", "checks");
    const output = await failing("preview");
    const prefix = `error: ${NETWORK} resource '${run}-lan' has a problem: `;
    expect(diagnostics(output)).toEqual([
      `${NETWORK} (${run}-lan):`,
      `${prefix}autostrat is not a property of Network; did you mean "autostart"?`,
      `${prefix}addresses[0].dhcp.ranges[1].start "${subnet}.300" is not an IP address: give an address inside ${subnet}.1/24 (${subnet}.0/24)`,
      `${prefix}addresses[0].dhcp.hosts[0].mac is required for an IPv4 host: give the guest's MAC address, e.g. 52:54:00:12:34:56`,
      `${prefix}dnsHosts[0].ip "10.93.12.300" is not an IPv4 or IPv6 address: give the address the names resolve to`,
    ]);
    expect(output.split("\n").filter(noise)).toEqual([]);
    expect(output).not.toMatch(/\n\s+at /);
  });

  it("prints a change diff refuses as one line, without a stack trace", async () => {
    await project.setConfig("bad:stage", "volume");
    await project.pulumi("up", "--yes", "--skip-preview");
    await project.setConfig("bad:stage", "shrink");
    const output = await failing("preview");
    expect(diagnostics(output)).toEqual([
      `pulumi-nodejs:dynamic/virtwire:Volume (${run}-data):`,
      expect.stringMatching(
        /^error: Planning the change of volume .* failed: capacity 1 MiB \(1048576 bytes\) is smaller than the volume's current 2 MiB \(2097152 bytes\): a volume only grows/,
      ),
    ]);
    expect(output.split("\n").filter(noise)).toEqual([]);
    expect(output).not.toMatch(/\n\s+at |Error: /);
  });

  it("leaves nothing in libvirt once destroyed", async () => {
    await project.pulumi("destroy", "--yes", "--skip-preview");
    await removePool(lv, pool);
    expect(await ownInventory(lv, run)).toEqual(before);
  });
});
