/**
 * REMOTE procedures about the connection and the host (remote_protocol.x). Each entry is
 * `[procedure number, args, ret]`; field names are libvirt's.
 */
import { array, int, struct, uhyper, uint, xdrVoid } from "../../xdr";
import {
  NodeInfoModel,
  REMOTE_AUTH_TYPE_LIST_MAX,
  RemoteNonnullString,
  RemoteString,
} from "./types";

/**
 * `remote_node_get_info_ret`: `char model[32]` is 128 wire bytes (four per char, no count);
 * `memory` is KiB, `mhz` the nominal CPU frequency, `nodes`·`sockets`·`cores`·`threads` the topology.
 */
const NodeInfo = struct({
  model: NodeInfoModel,
  memory: uhyper,
  cpus: int,
  mhz: int,
  nodes: int,
  sockets: int,
  cores: int,
  threads: int,
});

export const connectProcedures = {
  /** REMOTE_PROC_CONNECT_OPEN (1): the first call after authentication. */
  ConnectOpen: [1, struct({ name: RemoteString, flags: uint }), xdrVoid],
  /** REMOTE_PROC_CONNECT_CLOSE (2) */
  ConnectClose: [2, xdrVoid, xdrVoid],
  /** REMOTE_PROC_CONNECT_GET_TYPE (3) */
  ConnectGetType: [3, xdrVoid, struct({ type: RemoteNonnullString })],
  /** REMOTE_PROC_CONNECT_GET_VERSION (4): hypervisor version, major·10⁶ + minor·10³ + micro. */
  ConnectGetVersion: [4, xdrVoid, struct({ hv_ver: uhyper })],
  /** REMOTE_PROC_CONNECT_GET_MAX_VCPUS (5): `type` is a domain type such as `kvm`; null asks for the default. */
  ConnectGetMaxVcpus: [5, struct({ type: RemoteString }), struct({ max_vcpus: int })],
  /** REMOTE_PROC_NODE_GET_INFO (6) */
  NodeGetInfo: [6, xdrVoid, NodeInfo],
  /** REMOTE_PROC_CONNECT_GET_CAPABILITIES (7) */
  ConnectGetCapabilities: [7, xdrVoid, struct({ capabilities: RemoteNonnullString })],
  /** REMOTE_PROC_CONNECT_GET_HOSTNAME (59) */
  ConnectGetHostname: [59, xdrVoid, struct({ hostname: RemoteNonnullString })],
  /** REMOTE_PROC_CONNECT_SUPPORTS_FEATURE (60) */
  ConnectSupportsFeature: [60, struct({ feature: int }), struct({ supported: int })],
  /** REMOTE_PROC_AUTH_LIST (66): allowed before authentication. */
  AuthList: [66, xdrVoid, struct({ types: array(int, REMOTE_AUTH_TYPE_LIST_MAX) })],
  /** REMOTE_PROC_AUTH_POLKIT (70) */
  AuthPolkit: [70, xdrVoid, struct({ complete: int })],
  /** REMOTE_PROC_NODE_GET_FREE_MEMORY (102): bytes. */
  NodeGetFreeMemory: [102, xdrVoid, struct({ freeMem: uhyper })],
  /** REMOTE_PROC_CONNECT_GET_URI (110) */
  ConnectGetURI: [110, xdrVoid, struct({ uri: RemoteNonnullString })],
  /** REMOTE_PROC_CONNECT_IS_SECURE (149) */
  ConnectIsSecure: [149, xdrVoid, struct({ secure: int })],
  /** REMOTE_PROC_CONNECT_GET_LIB_VERSION (157): libvirt version, major·10⁶ + minor·10³ + micro. */
  ConnectGetLibVersion: [157, xdrVoid, struct({ lib_ver: uhyper })],
  /** REMOTE_PROC_CONNECT_GET_SYSINFO (203): the host's SMBIOS data as `<sysinfo>` XML. */
  ConnectGetSysinfo: [203, struct({ flags: uint }), struct({ sysinfo: RemoteNonnullString })],
  /**
   * REMOTE_PROC_CONNECT_GET_DOMAIN_CAPABILITIES (342): what a domain of this emulator, arch,
   * machine and virt type (`qemu`, `kvm`) can use; null fields take the host's defaults.
   */
  ConnectGetDomainCapabilities: [
    342,
    struct({
      emulatorbin: RemoteString,
      arch: RemoteString,
      machine: RemoteString,
      virttype: RemoteString,
      flags: uint,
    }),
    struct({ capabilities: RemoteNonnullString }),
  ],
} as const;
