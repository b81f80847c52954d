/**
 * The test bed's tiny guest (a Debian kernel and a busybox initramfs, see scripts/testbed/) as a
 * libvirt domain: type qemu (TCG), direct kernel boot, its console in a file, a virtio NIC when
 * given a network. It prints `VIRTWIRE-GUEST: lease <ip>` on the console once DHCP gave it an
 * address.
 */
import * as fs from "node:fs";

export const GUEST_KERNEL =
  process.env.VIRTWIRE_GUEST_KERNEL ?? "/var/cache/virtwire/guest/vmlinuz";
export const GUEST_INITRD =
  process.env.VIRTWIRE_GUEST_INITRD ?? "/var/cache/virtwire/guest/initrd.gz";
/** The kernel command line for resources that boot the guest (its console on the serial port). */
export const GUEST_CMDLINE = process.env.VIRTWIRE_GUEST_CMDLINE ?? "console=ttyS0";

/**
 * The test bed's real Debian 12 guest (scripts/testbed/debian-guest.sh): systemd, cloud-init
 * (NoCloud), sshd and the QEMU guest agent on an ext4 root filesystem without partitions, booted
 * directly with its own kernel and initramfs. Built by `testbed.sh up` (or `testbed.sh debian`).
 */
const DEBIAN_DIR = "/var/cache/virtwire/debian/current";
/** The root filesystem as a sparse raw image (3 GiB). */
export const DEBIAN_RAW = process.env.VIRTWIRE_DEBIAN_RAW ?? `${DEBIAN_DIR}/disk.raw`;
/** The same as qcow2, for base volumes. */
export const DEBIAN_QCOW2 = process.env.VIRTWIRE_DEBIAN_QCOW2 ?? `${DEBIAN_DIR}/disk.qcow2`;
export const DEBIAN_KERNEL = process.env.VIRTWIRE_DEBIAN_KERNEL ?? `${DEBIAN_DIR}/vmlinuz`;
export const DEBIAN_INITRD = process.env.VIRTWIRE_DEBIAN_INITRD ?? `${DEBIAN_DIR}/initrd.img`;
/** The root filesystem is the whole first virtio disk; eth0 is the first NIC. */
export const DEBIAN_CMDLINE =
  process.env.VIRTWIRE_DEBIAN_CMDLINE ?? "root=/dev/vda rw console=ttyS0 net.ifnames=0";

export interface GuestXmlOptions {
  serialLog: string;
  /** The network of its virtio NIC; no NIC without. */
  network?: string;
  mac?: string;
  memoryMiB?: number;
  /** vCPUs it may have (one runs at start), for hot-plugging. */
  maxVcpus?: number;
  /** Another initramfs instead of the test bed's. */
  initrd?: string;
  /** More `<devices>` children, e.g. a disk. */
  devices?: string;
}

export function guestDomainXml(name: string, options: GuestXmlOptions): string {
  const { serialLog, network, mac, maxVcpus } = options;
  const address = mac ? `<mac address='${mac}'/>` : "";
  const devices = [
    `<serial type='file'><source path='${serialLog}'/></serial>`,
    ...(network
      ? [
          `<interface type='network'><source network='${network}'/>${address}<model type='virtio'/></interface>`,
        ]
      : []),
    ...(options.devices ? [options.devices] : []),
  ];
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>${options.memoryMiB ?? 128}</memory>
  ${maxVcpus ? `<vcpu current='1'>${maxVcpus}</vcpu>` : "<vcpu>1</vcpu>"}
  <os><type arch='x86_64'>hvm</type><kernel>${GUEST_KERNEL}</kernel><initrd>${options.initrd ?? GUEST_INITRD}</initrd><cmdline>console=ttyS0</cmdline></os>
  <features><acpi/></features>
  <devices>
    ${devices.join("\n    ")}
  </devices>
</domain>`;
}

/** Waits until the console log matches `pattern`; returns the match. */
export async function waitForConsole(
  serialLog: string,
  pattern: RegExp,
  timeoutMs = 60_000,
): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = fs.existsSync(serialLog) ? fs.readFileSync(serialLog, "utf8") : "";
    const match = log.match(pattern);
    if (match) return match;
    if (Date.now() > deadline)
      throw new Error(
        `the guest's console did not show ${pattern} within ${timeoutMs} ms:\n${log.slice(-2000)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
