/**
 * examples/ci-vm through the real Pulumi CLI against the test bed, as two CI jobs on one host run
 * it at the same moment: a GitHub Actions job and a GitLab CI job, each with a stack of its own and
 * its CI's variables, `pulumi up` at once. Every libvirt name carries its job; the two networks get
 * different subnets (`address: "auto"` inside a /22 of this run); each VM gets an address on its
 * own network; `destroy` leaves nothing.
 */
import { randomBytes, randomInt } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import type { Libvirt } from "../../rpc";
import { GUEST_CMDLINE, GUEST_INITRD, GUEST_KERNEL } from "../support/guest";
import { REPO_ROOT } from "../support/program-dir";
import { connectTestbed } from "../support/testbed";
import { inventory } from "./libvirt-inventory";
import { PulumiProject } from "./pulumi-project";
import { stackObjects } from "./state-report";
import { sweep } from "./sweep";

const suffix = randomBytes(3).toString("hex");
// A /22 of this run (four /24s) inside 10.116.0.0/14, which no other test uses.
const subnets = `10.${116 + randomInt(4)}.${randomInt(64) * 4}.0/22`;
const runId = String(randomInt(1e9, 1e10));
const jobId = String(randomInt(1e8, 1e9));
/** The variables each CI sets; the others are emptied, in case the tests run in a CI. */
const NO_CI = {
  GITHUB_RUN_ID: "",
  CI_JOB_ID: "",
  BUILDKITE_JOB_ID: "",
  CIRCLE_BUILD_NUM: "",
  BUILD_TAG: "",
};
const jobs = {
  github: {
    env: { ...NO_CI, GITHUB_RUN_ID: runId, GITHUB_RUN_ATTEMPT: "2", GITHUB_JOB: "e2e tests" },
    names: `ci-gh${runId}-2-e2e-tests-`,
  },
  gitlab: { env: { ...NO_CI, CI_JOB_ID: jobId }, names: `ci-gl${jobId}-` },
};
type Job = keyof typeof jobs;

describe("examples/ci-vm as two CI jobs at once on one host", () => {
  let lv: Libvirt;
  const projects = {} as Record<Job, PulumiProject>;
  const created = {} as Record<Job, ReturnType<typeof stackObjects>>;
  const destroyed = new Set<Job>();
  const stack = (job: Job) => `vwtest-civm-${job}-${suffix}`;
  const poolPath = (job: Job) => `/var/lib/libvirt/images/virtwire-ci-${stack(job)}`;

  beforeAll(async () => {
    lv = await connectTestbed();
    for (const job of Object.keys(jobs) as Job[]) {
      const project = await PulumiProject.create(
        path.join(REPO_ROOT, "examples/ci-vm"),
        stack(job),
        {
          env: jobs[job].env,
        },
      );
      projects[job] = project;
      fs.writeFileSync(
        path.join(project.dir, "test-guest.img"),
        gunzipSync(fs.readFileSync(GUEST_INITRD)),
      );
      const settings: Record<string, string> = {
        "ci-vm:image": "test-guest.img",
        "ci-vm:domainType": "qemu",
        "ci-vm:kernel": GUEST_KERNEL,
        "ci-vm:initrd": GUEST_INITRD,
        "ci-vm:cmdline": GUEST_CMDLINE,
        "ci-vm:memory": "128MiB",
        "ci-vm:vcpu": "1",
        "ci-vm:diskSize": "1GiB",
        "ci-vm:subnets": subnets,
        "ci-vm:addressTimeout": "120",
      };
      for (const [key, value] of Object.entries(settings)) await project.setConfig(key, value);
    }
  });

  afterAll(async () => {
    for (const job of Object.keys(projects) as Job[]) {
      if (!destroyed.has(job)) {
        await projects[job].pulumi("destroy", "--yes", "--skip-preview").catch(() => undefined);
      }
      projects[job].remove();
      // After a failure midway: whatever carries the job's names.
      await sweep(lv, jobs[job].names, poolPath(job));
    }
    await lv?.close();
  });

  it("`pulumi up` of both at once gives each a VM, every libvirt name carrying its job", async () => {
    const started = Date.now();
    await Promise.all(
      (Object.keys(jobs) as Job[]).map((job) =>
        projects[job].pulumi("up", "--yes", "--skip-preview"),
      ),
    );
    console.log(`two ci-vm jobs up at once: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const live = await inventory(lv);
    for (const job of Object.keys(jobs) as Job[]) {
      created[job] = stackObjects(await projects[job].exportState());
      const { domains, networks, pools, volumes } = created[job];
      expect([domains.length, networks.length, pools.length, volumes.length]).toEqual([1, 1, 1, 3]);
      for (const name of [
        ...domains,
        ...networks,
        ...pools,
        ...volumes.map((key) => path.basename(key)),
      ]) {
        expect(name.startsWith(jobs[job].names)).toBe(true);
      }
      expect(live.domains).toEqual(expect.arrayContaining(domains));
      expect((await projects[job].outputs()).name).toMatch(
        new RegExp(`^${jobs[job].names}vm-[0-9a-f]{7}$`),
      );
    }
  });

  it("the two networks have different subnets inside ci-vm:subnets, and each VM an address on its own", async () => {
    const outputs = await Promise.all(
      (Object.keys(jobs) as Job[]).map((job) => projects[job].outputs()),
    );
    const [a, b] = outputs.map((output) => {
      const host = String(output.hostAddress);
      expect(host).toMatch(/^10\.\d+\.\d+\.1\/24$/);
      const network = host.replace(/\.1\/24$/, "");
      expect(String(output.address).startsWith(`${network}.`)).toBe(true);
      return network;
    });
    expect(a).not.toBe(b);
    const [, second, third] = subnets.split(/[./]/).map(Number);
    for (const network of [a!, b!]) {
      const [, secondOctet, thirdOctet] = network.split(".").map(Number);
      expect(secondOctet).toBe(second);
      expect(thirdOctet! - third!).toBeGreaterThanOrEqual(0);
      expect(thirdOctet! - third!).toBeLessThan(4);
    }
  });

  it("`pulumi destroy` of both leaves nothing of either job in libvirt", async () => {
    await Promise.all(
      (Object.keys(jobs) as Job[]).map(async (job) => {
        await projects[job].pulumi("destroy", "--yes", "--skip-preview");
        destroyed.add(job);
      }),
    );
    const live = await inventory(lv);
    for (const job of Object.keys(jobs) as Job[]) {
      const names = [...live.domains, ...live.networks, ...live.pools, ...live.volumes];
      expect(names.filter((name) => path.basename(name).startsWith(jobs[job].names))).toEqual([]);
      expect(fs.existsSync(poolPath(job))).toBe(false);
    }
  });
});
