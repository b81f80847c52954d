/**
 * A lab on one libvirt host: an isolated network with DHCP, a directory pool, a base image, and
 * `lab:vms` VMs that each boot a copy-on-write overlay of that image with their own cloud-init
 * seed. Exports each VM's IP address. Settings (all optional except `lab:image`) are described in
 * README.md.
 */
import * as pulumi from "@pulumi/pulumi";
import * as virtwire from "virtwire";

const config = new pulumi.Config("lab");
const stack = pulumi.getStack();

const vmCount = config.getNumber("vms") ?? 3;
const subnet = config.get("subnet") ?? "10.77.0"; // the network is <subnet>.0/24
const memory = config.get("memory") ?? "512MiB";
const memoryByVm = config.getObject<Record<string, string>>("memoryByVm") ?? {};
const domainType = config.get("domainType") ?? "kvm"; // "qemu" where there is no KVM
const password = config.getSecret("password");
const sshKey = config.get("sshKey");

// Direct kernel boot (lab:kernel, lab:initrd, lab:cmdline: files on the libvirt host), or, when
// lab:kernel is not set, the image's own boot loader.
const kernel = config.get("kernel");
const directBoot = kernel
  ? {
      kernel,
      initrd: config.get("initrd"),
      cmdline: config.get("cmdline") ?? "console=ttyS0",
    }
  : {};

const network = new virtwire.Network("lab", {
  mode: "isolated",
  domain: "lab",
  addresses: [
    {
      address: `${subnet}.1`,
      prefix: 24,
      dhcp: { ranges: [{ start: `${subnet}.100`, end: `${subnet}.199` }] },
    },
  ],
});

const pool = new virtwire.Pool("lab", {
  type: "dir",
  targetPath: config.get("poolPath") ?? `/var/lib/libvirt/images/virtwire-lab-${stack}`,
  deleteTargetOnDestroy: true,
});

// The base image: a file next to this program or an http(s) URL, checked against lab:imageSha256.
const image = config.require("image");
const base = new virtwire.Volume("base", {
  pool: pool.name,
  source: {
    ...(/^https?:\/\//.test(image) ? { url: image } : { path: image }),
    sha256: config.get("imageSha256"),
  },
});

function userData(hostname: string): pulumi.Output<string> {
  return pulumi.interpolate`#cloud-config
hostname: ${hostname}
users:
  - name: lab
    sudo: ALL=(ALL) NOPASSWD:ALL
    shell: /bin/bash
    lock_passwd: ${password ? "false" : "true"}
${password ? pulumi.interpolate`    plain_text_passwd: ${password}\n` : ""}${sshKey ? `    ssh_authorized_keys: [${JSON.stringify(sshKey)}]\n` : ""}ssh_pwauth: ${password ? "true" : "false"}
`;
}

export const addresses: Record<string, pulumi.Output<string>> = {};
export const domains: Record<string, pulumi.Output<string>> = {};

for (let index = 1; index <= vmCount; index++) {
  const vm = `vm${index}`;
  const disk = new virtwire.Volume(`${vm}-disk`, {
    pool: pool.name,
    baseVolume: { key: base.key },
    capacity: config.get("diskSize") ?? "10GiB",
  });
  const seed = new virtwire.CloudInitDisk(`${vm}-seed`, {
    pool: pool.name,
    userData: userData(vm),
    metaData: `local-hostname: ${vm}\n`,
  });
  const domain = new virtwire.Domain(vm, {
    type: domainType as "kvm" | "qemu",
    memory: memoryByVm[vm] ?? memory,
    vcpu: 1,
    ...directBoot,
    disks: [{ volume: { pool: pool.name, name: disk.name } }],
    cloudInitDisk: { path: seed.path },
    networkInterfaces: [{ network: network.name }],
    waitForAddresses: { source: "lease", timeout: config.getNumber("addressTimeout") ?? 300 },
    shutdownTimeout: 30,
  });
  addresses[vm] = domain.ipAddress;
  domains[vm] = domain.name;
}

export const networkName = network.name;
export const bridge = network.bridgeName;
export const poolName = pool.name;
