/**
 * Access to the test bed that scripts/testbed.sh starts: a real libvirtd (QEMU, network and
 * storage drivers) inside the `virtwire` network namespace, reachable on the unix socket.
 */
import { randomBytes } from "node:crypto";
import { Libvirt } from "../../rpc";

/** The URI of the test bed daemon (`VIRTWIRE_TEST_URI`, default qemu:///system). */
export const TEST_URI = process.env.VIRTWIRE_TEST_URI ?? "qemu:///system";

export function connectTestbed(): Promise<Libvirt> {
  return Libvirt.connect(TEST_URI);
}

/** A name no other test run uses: `vwtest-<purpose>-<6 hex>`. */
export function uniqueName(purpose: string): string {
  return `vwtest-${purpose}-${randomBytes(3).toString("hex")}`;
}
