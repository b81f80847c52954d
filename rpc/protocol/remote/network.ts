/**
 * REMOTE procedures on virtual networks (remote_protocol.x). Each entry is
 * `[procedure number, args, ret]`. NETWORK_UPDATE's argument order depends on the server: call it
 * through `networkUpdate()` (rpc/network-update.ts), not directly.
 */
import { array, int, struct, uint, xdrVoid } from "../../xdr";
import {
  REMOTE_NETWORK_DHCP_LEASES_MAX,
  REMOTE_NETWORK_LIST_MAX,
  RemoteNetworkDhcpLease,
  RemoteNonnullNetwork,
  RemoteNonnullString,
  RemoteString,
  RemoteUuid,
} from "./types";

const Net = struct({ net: RemoteNonnullNetwork });
const Xml = struct({ xml: RemoteNonnullString });
const XmlFlags = struct({ xml: RemoteNonnullString, flags: uint });

export const networkProcedures = {
  /** REMOTE_PROC_NETWORK_CREATE (39): start a defined network. */
  NetworkCreate: [39, Net, xdrVoid],
  /** REMOTE_PROC_NETWORK_CREATE_XML (40): start a transient network. */
  NetworkCreateXML: [40, Xml, Net],
  /** REMOTE_PROC_NETWORK_DEFINE_XML (41) */
  NetworkDefineXML: [41, Xml, Net],
  /** REMOTE_PROC_NETWORK_DESTROY (42): stop the network. */
  NetworkDestroy: [42, Net, xdrVoid],
  /** REMOTE_PROC_NETWORK_GET_XML_DESC (43) */
  NetworkGetXMLDesc: [43, struct({ net: RemoteNonnullNetwork, flags: uint }), Xml],
  /** REMOTE_PROC_NETWORK_GET_AUTOSTART (44) */
  NetworkGetAutostart: [44, Net, struct({ autostart: int })],
  /** REMOTE_PROC_NETWORK_GET_BRIDGE_NAME (45) */
  NetworkGetBridgeName: [45, Net, struct({ name: RemoteNonnullString })],
  /** REMOTE_PROC_NETWORK_LOOKUP_BY_NAME (46) */
  NetworkLookupByName: [46, struct({ name: RemoteNonnullString }), Net],
  /** REMOTE_PROC_NETWORK_LOOKUP_BY_UUID (47) */
  NetworkLookupByUUID: [47, struct({ uuid: RemoteUuid }), Net],
  /** REMOTE_PROC_NETWORK_SET_AUTOSTART (48) */
  NetworkSetAutostart: [48, struct({ net: RemoteNonnullNetwork, autostart: int }), xdrVoid],
  /** REMOTE_PROC_NETWORK_UNDEFINE (49) */
  NetworkUndefine: [49, Net, xdrVoid],
  /** REMOTE_PROC_NETWORK_IS_ACTIVE (152) */
  NetworkIsActive: [152, Net, struct({ active: int })],
  /** REMOTE_PROC_NETWORK_IS_PERSISTENT (153) */
  NetworkIsPersistent: [153, Net, struct({ persistent: int })],
  /** REMOTE_PROC_CONNECT_LIST_ALL_NETWORKS (283); send need_results 1 to get the list. */
  ConnectListAllNetworks: [
    283,
    struct({ need_results: int, flags: uint }),
    struct({ nets: array(RemoteNonnullNetwork, REMOTE_NETWORK_LIST_MAX), ret: uint }),
  ],
  /**
   * REMOTE_PROC_NETWORK_UPDATE (291). Servers older than libvirt 7.2 (feature 16 unsupported)
   * read `command` and `section` swapped; `networkUpdate()` puts them where the server reads them.
   */
  NetworkUpdate: [
    291,
    struct({
      net: RemoteNonnullNetwork,
      command: uint,
      section: uint,
      parentIndex: int,
      xml: RemoteNonnullString,
      flags: uint,
    }),
    xdrVoid,
  ],
  /** REMOTE_PROC_NETWORK_GET_DHCP_LEASES (341): `mac` filters to one MAC address when present. */
  NetworkGetDHCPLeases: [
    341,
    struct({ net: RemoteNonnullNetwork, mac: RemoteString, need_results: int, flags: uint }),
    struct({ leases: array(RemoteNetworkDhcpLease, REMOTE_NETWORK_DHCP_LEASES_MAX), ret: uint }),
  ],
  /** REMOTE_PROC_NETWORK_DEFINE_XML_FLAGS (432): libvirt 7.7 and later. */
  NetworkDefineXMLFlags: [432, XmlFlags, Net],
  /** REMOTE_PROC_NETWORK_CREATE_XML_FLAGS (437): libvirt 7.8 and later. */
  NetworkCreateXMLFlags: [437, XmlFlags, Net],
} as const;
