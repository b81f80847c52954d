/**
 * The test bed's tiny guest (a Debian kernel and a busybox initramfs, see scripts/testbed/) as a
 * libvirt domain: type qemu (TCG), direct kernel boot, its console in a file, one virtio NIC.
 * It prints `VIRTWIRE-GUEST: lease <ip>` on the console once DHCP gave it an address.
 */
import * as fs from "node:fs";

export const GUEST_KERNEL =
  process.env.VIRTWIRE_GUEST_KERNEL ?? "/var/cache/virtwire/guest/vmlinuz";
export const GUEST_INITRD =
  process.env.VIRTWIRE_GUEST_INITRD ?? "/var/cache/virtwire/guest/initrd.gz";

export interface GuestXmlOptions {
  network: string;
  mac: string;
  serialLog: string;
  memoryMiB?: number;
}

export function guestDomainXml(name: string, options: GuestXmlOptions): string {
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>${options.memoryMiB ?? 128}</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>${GUEST_KERNEL}</kernel><initrd>${GUEST_INITRD}</initrd><cmdline>console=ttyS0</cmdline></os>
  <features><acpi/></features>
  <devices>
    <serial type='file'><source path='${options.serialLog}'/></serial>
    <interface type='network'><source network='${options.network}'/><mac address='${options.mac}'/><model type='virtio'/></interface>
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
