/**
 * NETWORK_UPDATE with the argument order the server expects. libvirt's public API takes
 * (command, section), but until libvirt 7.2 the RPC carried them swapped and servers swapped them
 * back. A server that answers 1 to CONNECT_SUPPORTS_FEATURE(NETWORK_UPDATE_HAS_CORRECT_ORDER, 16)
 * reads them in order; for any other, send the section in `command` and the command in `section`,
 * as libvirt's own client does (remote_driver.c `remoteNetworkUpdate`).
 */
import type { Libvirt } from "./libvirt";
import type { NetworkUpdateCommand, NetworkUpdateSection } from "./protocol/remote/constants";
import type { RemoteNonnullNetwork } from "./protocol/remote/types";

/** What `networkUpdate` needs of a connection: the features it opened with and the procedure. */
export type NetworkUpdater = Pick<Libvirt, "features" | "NetworkUpdate">;

/**
 * Changes one part of a network's definition, live and/or in its config (`flags`: AffectFlags).
 * `parentIndex` picks the parent `<ip>` element for IP_DHCP_HOST/IP_DHCP_RANGE (-1: the first).
 */
export function networkUpdate(
  lv: NetworkUpdater,
  net: RemoteNonnullNetwork,
  command: NetworkUpdateCommand,
  section: NetworkUpdateSection,
  parentIndex: number,
  xml: string,
  flags: number,
): Promise<void> {
  const inOrder = lv.features.networkUpdateHasCorrectOrder;
  return lv.NetworkUpdate({
    net,
    command: inOrder ? command : section,
    section: inOrder ? section : command,
    parentIndex,
    xml,
    flags,
  });
}
