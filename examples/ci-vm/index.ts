/**
 * One throwaway VM for a CI job: a pool and a network of its own, the job's base image, a
 * copy-on-write disk on it and a cloud-init seed that lets the CI runner in over SSH. Everything
 * goes with `pulumi destroy`. Exports the VM's address. One stack per job (see README.md).
 */
import * as pulumi from "@pulumi/pulumi";
import * as virtwire from "virtwire";

const config = new pulumi.Config("ci-vm");
const stack = pulumi.getStack();

/**
 * The CI job this stack serves, from the variables the common CI systems set, so that `virsh list`
 * on a shared CI host tells whose VM is whose. Unset or empty variables do not count.
 */
function ciJob(env: NodeJS.ProcessEnv): string | undefined {
  if (env.GITHUB_RUN_ID) {
    // A run's jobs (and a matrix's legs) share the run id: the job and the attempt tell them apart,
    // and the random suffix of every name tells matrix legs apart.
    return `gh${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT || "1"}-${env.GITHUB_JOB ?? ""}`;
  }
  if (env.CI_JOB_ID) return `gl${env.CI_JOB_ID}`; // GitLab CI
  if (env.BUILDKITE_JOB_ID) return `bk${env.BUILDKITE_JOB_ID.slice(0, 8)}`;
  if (env.CIRCLE_BUILD_NUM) return `cc${env.CIRCLE_BUILD_NUM}`; // CircleCI: one number per job
  if (env.BUILD_TAG) return env.BUILD_TAG; // Jenkins: jenkins-<job name>-<build number>
  return undefined;
}

// Characters libvirt refuses in names become "-"; long job names are cut (the suffix stays).
const job = (config.get("jobId") || ciJob(process.env))
  ?.replace(/[^A-Za-z0-9_.+:-]+/g, "-")
  .replace(/-+$/, "")
  .slice(0, 48);
/** Every libvirt name starts with this: `ci-gh1234567-1-test-vm-1a2b3c4` for the Domain. */
const base = job ? `ci-${job}` : "ci";

const subnet = config.get("subnet");
const sshKey = config.get("sshKey");
const kernel = config.get("kernel");

const pool = new virtwire.Pool(base, {
  type: "dir",
  targetPath: `/var/lib/libvirt/images/virtwire-ci-${stack}`,
  deleteTargetOnDestroy: true,
});

// Jobs running at once on one host need different subnets: unless ci-vm:subnet fixes one, virtwire
// chooses a /24 no other libvirt network has when it creates the network (`address: "auto"`).
const network = new virtwire.Network(base, {
  mode: (config.get("networkMode") ?? "nat") as "nat" | "isolated",
  addresses: [
    subnet
      ? {
          address: `${subnet}.1`,
          prefix: 24,
          dhcp: { ranges: [{ start: `${subnet}.10`, end: `${subnet}.250` }] },
        }
      : { address: "auto", prefix: 24, within: config.get("subnets"), dhcp: {} },
  ],
  autostart: false,
});

const image = config.require("image");
const baseImage = new virtwire.Volume(`${base}-image`, {
  pool: pool.name,
  source: {
    ...(/^https?:\/\//.test(image) ? { url: image } : { path: image }),
    sha256: config.get("imageSha256"),
  },
});

const disk = new virtwire.Volume(`${base}-disk`, {
  pool: pool.name,
  baseVolume: { key: baseImage.key },
  capacity: config.get("diskSize") ?? "20GiB",
});

const seed = new virtwire.CloudInitDisk(`${base}-seed`, {
  pool: pool.name,
  userData: `#cloud-config
users:
  - name: ci
    sudo: ALL=(ALL) NOPASSWD:ALL
    shell: /bin/bash
${sshKey ? `    ssh_authorized_keys: [${JSON.stringify(sshKey)}]\n` : ""}`,
  metaData: `local-hostname: ci-${stack}\n`,
});

const vm = new virtwire.Domain(`${base}-vm`, {
  type: (config.get("domainType") ?? "kvm") as "kvm" | "qemu",
  memory: config.get("memory") ?? "2GiB",
  vcpu: config.getNumber("vcpu") ?? 2,
  ...(kernel
    ? { kernel, initrd: config.get("initrd"), cmdline: config.get("cmdline") ?? "console=ttyS0" }
    : {}),
  disks: [{ volume: { pool: pool.name, name: disk.name } }],
  cloudInitDisk: { path: seed.path },
  networkInterfaces: [{ network: network.name }],
  waitForAddresses: { source: "lease", timeout: config.getNumber("addressTimeout") ?? 300 },
  // A CI VM is disposable: no graceful shutdown on destroy.
  shutdownTimeout: 0,
});

export const address = vm.ipAddress;
export const name = vm.name;
export const networkName = network.name;
/** The network's subnet, e.g. `10.117.42.1/24` (the host's address on it). */
export const hostAddress = network.addresses.apply((addresses) =>
  addresses?.[0] ? `${addresses[0].address}/${addresses[0].prefix}` : undefined,
);
export const sshCommand = pulumi.interpolate`ssh ci@${vm.ipAddress}`;
