/**
 * One throwaway VM for a CI job: a pool and a network of its own, the job's base image, a
 * copy-on-write disk on it and a cloud-init seed that lets the CI runner in over SSH. Everything
 * goes with `pulumi destroy`. Exports the VM's address. One stack per job (see README.md).
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as virtwire from "virtwire";

const config = new pulumi.Config("ci-vm");
const stack = pulumi.getStack();

// Jobs running at once on one host need different subnets: derived from the stack name.
const digest = createHash("sha256").update(stack).digest();
const subnet = config.get("subnet") ?? `10.${128 + (digest[0]! % 64)}.${digest[1]}`;
const sshKey = config.get("sshKey");
const kernel = config.get("kernel");

const pool = new virtwire.Pool("ci", {
  type: "dir",
  targetPath: `/var/lib/libvirt/images/virtwire-ci-${stack}`,
  deleteTargetOnDestroy: true,
});

const network = new virtwire.Network("ci", {
  mode: (config.get("networkMode") ?? "nat") as "nat" | "isolated",
  addresses: [
    {
      address: `${subnet}.1`,
      prefix: 24,
      dhcp: { ranges: [{ start: `${subnet}.10`, end: `${subnet}.250` }] },
    },
  ],
  autostart: false,
});

const image = config.require("image");
const base = new virtwire.Volume("image", {
  pool: pool.name,
  source: {
    ...(/^https?:\/\//.test(image) ? { url: image } : { path: image }),
    sha256: config.get("imageSha256"),
  },
});

const disk = new virtwire.Volume("disk", {
  pool: pool.name,
  baseVolume: { key: base.key },
  capacity: config.get("diskSize") ?? "20GiB",
});

const seed = new virtwire.CloudInitDisk("seed", {
  pool: pool.name,
  userData: `#cloud-config
users:
  - name: ci
    sudo: ALL=(ALL) NOPASSWD:ALL
    shell: /bin/bash
${sshKey ? `    ssh_authorized_keys: [${JSON.stringify(sshKey)}]\n` : ""}`,
  metaData: `local-hostname: ci-${stack}\n`,
});

const vm = new virtwire.Domain("vm", {
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
export const sshCommand = pulumi.interpolate`ssh ci@${vm.ipAddress}`;
