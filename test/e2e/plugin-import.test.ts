/**
 * The provider plugin `pulumi-resource-virtwire` through the real Pulumi CLI against the test bed:
 * `pulumi import` adopts a network, a pool, a volume and a domain made over RPC (not by Pulumi),
 * by UUID and by name; the TypeScript program it prints compiles, and its first preview shows no
 * changes; destroy removes them. A preview of changes names, next to each property, how it is applied.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as os from "node:os";
import { promisify } from "node:util";
import { Libvirt, RemoteNonnullStoragePool, formatUuid } from "../../rpc";
import { guestDomainXml } from "../support/guest";
import { writeYamlProject, yamlProjectEnv } from "../support/languages";
import { REPO_ROOT } from "../support/program-dir";
import {
  TEST_URI,
  connectTestbed,
  dirPoolXml,
  isolatedNetworkXml,
  randomSubnet,
  removePool,
  uniqueName,
} from "../support/testbed";
import { PulumiProject } from "./pulumi-project";

const run = promisify(execFile);
const FIXTURE = path.join(REPO_ROOT, "test/fixtures/plugin-program");

const names = {
  network: uniqueName("import"),
  pool: uniqueName("import"),
  domain: uniqueName("import"),
};
const subnet = randomSubnet();

let lv: Libvirt;

beforeAll(async () => {
  lv = await connectTestbed();
});

afterAll(async () => {
  await lv?.close();
});

interface ExportedState {
  deployment: { resources: { urn: string; type: string; inputs?: Record<string, unknown> }[] };
}

/** A program with one `new virtwire.<Kind>(name, inputs)` per imported resource of the state. */
function programFromState(
  state: ExportedState,
  edit: (name: string, inputs: Record<string, unknown>) => Record<string, unknown> = (_, i) => i,
): string {
  const lines = ['import * as virtwire from "virtwire";', ""];
  for (const resource of state.deployment.resources) {
    const kind = /^virtwire:index:(\w+)$/.exec(resource.type)?.[1];
    if (!kind) continue;
    const name = resource.urn.split("::").pop()!;
    const inputs = JSON.stringify(edit(name, resource.inputs ?? {}), null, 2);
    lines.push(`export const ${name} = new virtwire.${kind}(${JSON.stringify(name)}, ${inputs});`);
  }
  return `${lines.join("\n")}\n`;
}

/** Removes whatever of the test's objects is still in libvirt. */
async function sweep(): Promise<void> {
  await lv
    .DomainLookupByName({ name: names.domain })
    .then(({ dom }) => lv.DomainUndefineFlags({ dom, flags: 0 }))
    .catch(() => undefined);
  await lv
    .NetworkLookupByName({ name: names.network })
    .then(async ({ net }) => {
      await lv.NetworkDestroy({ net }).catch(() => undefined);
      await lv.NetworkUndefine({ net }).catch(() => undefined);
    })
    .catch(() => undefined);
  await lv
    .StoragePoolLookupByName({ name: names.pool })
    .then(async ({ pool }) => {
      await removePool(lv, pool);
      await lv.StoragePoolUndefine({ pool }).catch(() => undefined);
    })
    .catch(() => undefined);
}

/** Whether libvirt still has an object of each test name. */
async function leftovers(): Promise<string[]> {
  const found: string[] = [];
  const has = (what: string, lookup: Promise<unknown>) =>
    lookup.then(() => found.push(what)).catch(() => undefined);
  await has("domain", lv.DomainLookupByName({ name: names.domain }));
  await has("network", lv.NetworkLookupByName({ name: names.network }));
  await has("pool", lv.StoragePoolLookupByName({ name: names.pool }));
  return found;
}

describe("pulumi import through the provider plugin", () => {
  let project: PulumiProject;
  let pool: RemoteNonnullStoragePool;
  let poolDir: string;
  const ids: Record<string, string> = {};
  let importFile = "";

  beforeAll(async () => {
    project = await PulumiProject.create(FIXTURE, "import", { plugin: true });
    await project.setConfig("virtwire:uri", TEST_URI);
    poolDir = fs.mkdtempSync(path.join(project.dir, "pool-"));
    fs.chmodSync(poolDir, 0o755);
    ({ pool } = await lv.StoragePoolDefineXML({ xml: dirPoolXml(names.pool, poolDir), flags: 0 }));
    await lv.StoragePoolCreate({ pool, flags: 0 });
    await lv.StorageVolCreateXML({
      pool,
      xml: "<volume><name>disk.qcow2</name><capacity unit='MiB'>16</capacity><target><format type='qcow2'/></target></volume>",
      flags: 0,
    });
    const { net } = await lv.NetworkDefineXML({ xml: isolatedNetworkXml(names.network, subnet) });
    await lv.NetworkCreate({ net });
    const serialLog = path.join(poolDir, "serial.log");
    const { dom } = await lv.DomainDefineXMLFlags({
      xml: guestDomainXml(names.domain, { serialLog, network: names.network }),
      flags: 0,
    });
    ids.domain = formatUuid(dom.uuid);
    ids.pool = formatUuid(pool.uuid);
  });

  afterAll(async () => {
    await sweep();
    project?.remove();
  });

  it("adopts objects made outside Pulumi and prints a program that compiles and previews no changes", async () => {
    const file = (importFile = path.join(project.dir, "import.json"));
    fs.writeFileSync(
      file,
      JSON.stringify({
        resources: [
          { type: "virtwire:index:Network", name: "net", id: names.network },
          { type: "virtwire:index:Pool", name: "pool", id: ids.pool },
          { type: "virtwire:index:Volume", name: "disk", id: `${names.pool}/disk.qcow2` },
          { type: "virtwire:index:Domain", name: "vm", id: ids.domain },
        ],
      }),
    );
    // The program `pulumi import` prints, written by Pulumi's TypeScript generator (the language
    // host's GenerateProgram), becomes the project's program.
    const index = path.join(project.dir, "index.ts");
    await project.pulumi("import", "--file", file, "--yes", "--protect=false", "--out", index);
    const program = fs.readFileSync(index, "utf8");
    expect(program).toMatch(/new virtwire\.Domain\("vm"/);
    // It type-checks against the package, as a user's `tsc` would.
    const tsc = path.join(project.dir, "node_modules/typescript/bin/tsc");
    await run(process.execPath, [tsc, "--noEmit", "-p", project.dir]).catch(
      (error: { stdout?: string }) => {
        throw new Error(`the imported program does not compile:\n${error.stdout}\n${program}`);
      },
    );
    // Resources of the program go through the plugin too (they are typed virtwire:index:…).
    await project.setConfig("virtwire:plugin", "true");
    const preview = await project.pulumi("preview", "--expect-no-changes", "--diff");
    expect(preview.stdout).not.toMatch(/[~+-] virtwire:index/);
  });

  it("names, next to each changed property, whether it is applied live or by replacement", async () => {
    const index = path.join(project.dir, "index.ts");
    const program = fs.readFileSync(index, "utf8");
    const changes: Record<string, Record<string, unknown>> = {
      net: { dnsHosts: [{ ip: `${subnet}.7`, hostnames: ["db"] }] },
      pool: { name: `${names.pool}-renamed` },
    };
    const state = JSON.parse(await project.exportState()) as ExportedState;
    fs.writeFileSync(
      index,
      programFromState(state, (name, inputs) => ({ ...inputs, ...changes[name] })),
    );
    const preview = await project.pulumi("preview", "--diff", "--json");
    const { steps, diagnostics } = JSON.parse(preview.stdout) as {
      steps: { op: string; urn: string; detailedDiff?: Record<string, { kind: string }> }[];
      diagnostics?: { urn?: string; message: string }[];
    };
    const network = steps.find((step) => step.urn.endsWith("::net"));
    const pool = steps.find((step) => step.urn.endsWith("::pool"));
    expect(network?.op).toBe("update");
    expect(network?.detailedDiff).toEqual({ dnsHosts: { kind: "update", inputDiff: false } });
    expect(pool?.op).toBe("replace");
    expect(pool?.detailedDiff).toEqual({ name: { kind: "update-replace", inputDiff: false } });
    const lines = (diagnostics ?? []).map((d) => d.message?.trim());
    expect(lines).toContain(`virtwire: network ${names.network}: dnsHosts [live]`);
    expect(lines).toContain(`virtwire: storage pool ${names.pool}-renamed: name [replace]`);
    fs.writeFileSync(index, program);
  });

  it("prints a YAML program for the same objects, which previews no changes and can invoke functions", async () => {
    // Pulumi's YAML host writes the program `pulumi import` prints (GenerateProgram).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vwtest-import-yaml-"));
    writeYamlProject(dir, "vwtest-import-yaml", "");
    const yaml = await PulumiProject.inDirectory(dir, "import-yaml", {
      env: await yamlProjectEnv(),
      plugin: project.dir,
    });
    try {
      await yaml.setConfig("virtwire:uri", TEST_URI);
      const out = path.join(dir, "imported.yaml");
      await yaml.pulumi("import", "--file", importFile, "--yes", "--protect=false", "--out", out);
      const printed = fs.readFileSync(out, "utf8");
      expect(printed).toMatch(/type: virtwire:(index:)?Domain/);
      fs.appendFileSync(path.join(dir, "Pulumi.yaml"), printed);
      await yaml.pulumi("preview", "--expect-no-changes");
      // A function through the plugin's invoke, with the provider's settings.
      fs.appendFileSync(
        path.join(dir, "Pulumi.yaml"),
        "variables:\n  node:\n    fn::invoke:\n      function: virtwire:index:getNodeInfo\n" +
          "      arguments: {}\noutputs:\n  hostname: ${node.hostname}\n",
      );
      await yaml.pulumi("up", "--yes", "--skip-preview");
      const { hostname } = await lv.ConnectGetHostname();
      expect(await yaml.outputs()).toEqual({ hostname });
      // The objects stay: the TypeScript stack above owns them and destroys them next.
      await yaml.pulumi("stack", "rm", "--force", "--yes");
    } catch (error) {
      throw new Error(
        `${(error as Error).message}\n--- Pulumi.yaml:\n${fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")}`,
      );
    } finally {
      yaml.remove();
    }
  });

  it("destroys what it imported", async () => {
    // One at a time, last imported first: the state holds no dependencies between imported
    // resources (a preview never writes them), so none orders the deletes.
    await project.pulumi("destroy", "--yes", "--skip-preview", "--parallel", "1");
    expect(await leftovers()).toEqual([]);
  });
});
