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
