/**
 * `pulumi up --replace` of an auto-named Volume through the real Pulumi CLI against the test bed.
 * The engine then asks no diff (so no deleteBeforeReplace from the provider) and checks the inputs
 * without the old ones, so unchanged inputs give the replacement the old volume's derived name and
 * key, and the engine deletes the old resource, by that key, after the new one was made: the
 * volume must still be there afterwards. With a smaller capacity, as the shrink refusal advises,
 * the replacement gets a new name and is made beside the old volume.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { Libvirt, RemoteNonnullStoragePool } from "../../rpc";
import { downloadVolume, uploadVolume } from "../../transfer";
import { connectTestbed, dirPoolXml, removePool, uniqueName } from "../support/testbed";
import { PulumiProject } from "./pulumi-project";

const run = uniqueName("replace");
const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import * as virtwire from "virtwire";

const config = new pulumi.Config("replace");
export const disk = new virtwire.Volume("disk", {
  pool: config.require("pool"),
  capacity: config.require("capacity"),
});
`;

let project: PulumiProject;
let lv: Libvirt;
let pool: RemoteNonnullStoragePool;
let dir: string;

beforeAll(async () => {
  lv = await connectTestbed();
  dir = await mkdtemp(path.join(tmpdir(), `${run}-`));
  const target = await mkdtemp(path.join(dir, "pool-"));
  ({ pool } = await lv.StoragePoolCreateXML({ xml: dirPoolXml(`${run}-pool`, target), flags: 0 }));
  const source = path.join(dir, "program");
  fs.mkdirSync(source);
  const lab = path.join(__dirname, "../../examples/lab");
  for (const file of ["package.json", "tsconfig.json"]) {
    fs.copyFileSync(path.join(lab, file), path.join(source, file));
  }
  fs.writeFileSync(path.join(source, "Pulumi.yaml"), "name: vwtest-replace\nruntime: nodejs\n");
  fs.writeFileSync(path.join(source, "index.ts"), PROGRAM);
  project = await PulumiProject.create(source, "replace");
  await project.setConfig("virtwire:uri", process.env.VIRTWIRE_TEST_URI ?? "qemu:///system");
  await project.setConfig("replace:pool", pool.name);
});

afterAll(async () => {
  await project?.pulumi("destroy", "--yes", "--skip-preview").catch(() => undefined);
  project?.remove();
  if (pool) await removePool(lv, pool).catch(() => undefined);
  await lv?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function disk(): Promise<{ key: string; name: string; capacity: number }> {
  return (await project.outputs()).disk as { key: string; name: string; capacity: number };
}

async function diskUrn(): Promise<string> {
  const { deployment } = JSON.parse(await project.exportState());
  return (deployment.resources as { urn: string }[]).find((r) => r.urn.endsWith("::disk"))!.urn;
}

async function head(key: string): Promise<Buffer> {
  const { vol } = await lv.StorageVolLookupByKey({ key });
  const file = path.join(dir, `head-${randomBytes(3).toString("hex")}.bin`);
  await downloadVolume(lv, vol, file, { length: 4096 });
  return readFile(file);
}

describe("pulumi up --replace of an auto-named Volume", () => {
  it("with unchanged inputs makes a new volume under the same name, and it stays", async () => {
    await project.setConfig("replace:capacity", "2MiB");
    await project.pulumi("up", "--yes", "--skip-preview");
    const created = await disk();
    const { vol } = await lv.StorageVolLookupByKey({ key: created.key });
    const marker = randomBytes(4096);
    await uploadVolume(
      lv,
      vol,
      (async function* () {
        yield marker;
      })(),
      { length: marker.length },
    );

    const replaced = await project.pulumi(
      "up",
      "--yes",
      "--skip-preview",
      "--replace",
      await diskUrn(),
    );
    expect(replaced.stdout).toContain("replaced");
    expect(replaced.stdout).toContain(
      `volume ${created.name} in storage pool ${pool.name}: not deleted again: its replacement under the same name already took its place in this run`,
    );
    expect(await disk()).toMatchObject({ key: created.key, name: created.name });
    expect(await head(created.key)).toEqual(Buffer.alloc(4096));
    await project.pulumi("preview", "--expect-no-changes", "--refresh");
  });

  it("with a smaller capacity, as the shrink refusal says, makes it beside the old one", async () => {
    const old = await disk();
    await project.setConfig("replace:capacity", "1MiB");
    await expect(project.pulumi("preview")).rejects.toThrow(
      /is smaller than the volume's current 2 MiB \(2097152 bytes\).* or recreate the volume smaller: pulumi up --replace <urn> makes the smaller volume under a new name beside this one/,
    );
    await project.pulumi("up", "--yes", "--skip-preview", "--replace", await diskUrn());
    const smaller = await disk();
    expect(smaller.name).not.toBe(old.name);
    expect(smaller.capacity).toBe(1024 * 1024);
    await expect(lv.StorageVolLookupByKey({ key: old.key })).rejects.toThrow(/no storage vol/);
    await lv.StorageVolLookupByKey({ key: smaller.key });
  });

  it("leaves nothing in the pool once destroyed", async () => {
    await project.pulumi("destroy", "--yes", "--skip-preview");
    await lv.StoragePoolRefresh({ pool, flags: 0 });
    const { vols } = await lv.StoragePoolListAllVolumes({ pool, need_results: 1, flags: 0 });
    expect(vols.map((vol) => vol.name)).toEqual([]);
  });
});
