/**
 * REMOTE procedures about the connection and the host (remote_protocol.x). Each entry is
 * `[procedure number, args, ret]`; field names are libvirt's.
 */
import { array, int, struct, uhyper, uint, xdrVoid } from "../../xdr";
import { REMOTE_AUTH_TYPE_LIST_MAX, RemoteNonnullString, RemoteString } from "./types";

export const connectProcedures = {
  /** REMOTE_PROC_CONNECT_OPEN (1): the first call after authentication. */
  ConnectOpen: [1, struct({ name: RemoteString, flags: uint }), xdrVoid],
  /** REMOTE_PROC_CONNECT_CLOSE (2) */
  ConnectClose: [2, xdrVoid, xdrVoid],
  /** REMOTE_PROC_CONNECT_GET_TYPE (3) */
  ConnectGetType: [3, xdrVoid, struct({ type: RemoteNonnullString })],
  /** REMOTE_PROC_CONNECT_GET_VERSION (4): hypervisor version, major·10⁶ + minor·10³ + micro. */
  ConnectGetVersion: [4, xdrVoid, struct({ hv_ver: uhyper })],
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
  /** REMOTE_PROC_CONNECT_GET_URI (110) */
  ConnectGetURI: [110, xdrVoid, struct({ uri: RemoteNonnullString })],
  /** REMOTE_PROC_CONNECT_IS_SECURE (149) */
  ConnectIsSecure: [149, xdrVoid, struct({ secure: int })],
  /** REMOTE_PROC_CONNECT_GET_LIB_VERSION (157): libvirt version, major·10⁶ + minor·10³ + micro. */
  ConnectGetLibVersion: [157, xdrVoid, struct({ lib_ver: uhyper })],
} as const;
