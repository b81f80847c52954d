/**
 * Basic types of the REMOTE program (src/remote/remote_protocol.x). Field names are libvirt's own,
 * so a declaration here reads like its .x counterpart.
 */
import {
  Codec,
  Infer,
  array,
  double,
  fixedCharArray,
  fixedOpaque,
  hyper,
  int,
  optional,
  string,
  struct,
  uhyper,
  uint,
  union,
} from "../../xdr";
import { XdrError } from "../../errors";

export const REMOTE_STRING_MAX = 4194304;
export const REMOTE_DOMAIN_LIST_MAX = 16384;
export const REMOTE_NETWORK_LIST_MAX = 16384;
export const REMOTE_STORAGE_POOL_LIST_MAX = 16384;
export const REMOTE_STORAGE_VOL_LIST_MAX = 16384;
export const REMOTE_SECRET_LIST_MAX = 16384;
export const REMOTE_NWFILTER_LIST_MAX = 16384;
export const REMOTE_AUTH_TYPE_LIST_MAX = 20;
export const REMOTE_AUTH_SASL_DATA_MAX = 65536;
export const REMOTE_SECRET_VALUE_MAX = 65536;
export const REMOTE_DOMAIN_INTERFACE_MAX = 2048;
export const REMOTE_DOMAIN_BLOCK_IO_TUNE_PARAMETERS_MAX = 32;
export const REMOTE_DOMAIN_IP_ADDR_MAX = 2048;
export const REMOTE_NETWORK_DHCP_LEASES_MAX = 65536;
export const REMOTE_NODE_DEVICE_LIST_MAX = 65536;
export const REMOTE_DOMAIN_GUEST_INFO_PARAMS_MAX = 2048;
export const VIR_UUID_BUFLEN = 16;

/** `remote_nonnull_string` */
export const RemoteNonnullString = string(REMOTE_STRING_MAX);
/** `remote_string`: an optional string; absent is null. */
export const RemoteString = optional(RemoteNonnullString);
/** `remote_uuid`: 16 raw bytes. */
export const RemoteUuid = fixedOpaque(VIR_UUID_BUFLEN);

/** `remote_nonnull_domain`; `id` is -1 while the domain is not running. */
export const RemoteNonnullDomain = struct({ name: RemoteNonnullString, uuid: RemoteUuid, id: int });
export type RemoteNonnullDomain = Infer<typeof RemoteNonnullDomain>;

/** `remote_nonnull_domain_snapshot` */
export const RemoteNonnullDomainSnapshot = struct({
  name: RemoteNonnullString,
  dom: RemoteNonnullDomain,
});
export type RemoteNonnullDomainSnapshot = Infer<typeof RemoteNonnullDomainSnapshot>;

/** `remote_nonnull_network` */
export const RemoteNonnullNetwork = struct({ name: RemoteNonnullString, uuid: RemoteUuid });
export type RemoteNonnullNetwork = Infer<typeof RemoteNonnullNetwork>;

/** `remote_nonnull_storage_pool` */
export const RemoteNonnullStoragePool = struct({ name: RemoteNonnullString, uuid: RemoteUuid });
export type RemoteNonnullStoragePool = Infer<typeof RemoteNonnullStoragePool>;

/** `remote_nonnull_storage_vol`; `pool` is the pool's name. */
export const RemoteNonnullStorageVol = struct({
  pool: RemoteNonnullString,
  name: RemoteNonnullString,
  key: RemoteNonnullString,
});
export type RemoteNonnullStorageVol = Infer<typeof RemoteNonnullStorageVol>;

/** `remote_nonnull_secret` */
export const RemoteNonnullSecret = struct({
  uuid: RemoteUuid,
  usageType: int,
  usageID: RemoteNonnullString,
});
export type RemoteNonnullSecret = Infer<typeof RemoteNonnullSecret>;

/** `remote_nonnull_nwfilter` */
export const RemoteNonnullNWFilter = struct({ name: RemoteNonnullString, uuid: RemoteUuid });
export type RemoteNonnullNWFilter = Infer<typeof RemoteNonnullNWFilter>;

/** `remote_nonnull_node_device` */
export const RemoteNonnullNodeDevice = struct({ name: RemoteNonnullString });
export type RemoteNonnullNodeDevice = Infer<typeof RemoteNonnullNodeDevice>;

export const RemoteDomain = optional(RemoteNonnullDomain);
export const RemoteNetwork = optional(RemoteNonnullNetwork);
export const RemoteStoragePool = optional(RemoteNonnullStoragePool);
export const RemoteSecret = optional(RemoteNonnullSecret);

/** `virTypedParameterType`: the discriminant of `remote_typed_param_value`. */
export enum TypedParamType {
  INT = 1,
  UINT = 2,
  LLONG = 3,
  ULLONG = 4,
  DOUBLE = 5,
  BOOLEAN = 6,
  STRING = 7,
}

/**
 * `remote_typed_param_value`: `union switch (int type)`; 64-bit arms are bigints, the boolean arm
 * is an int (0/1), the string arm a `remote_nonnull_string`.
 */
export const RemoteTypedParamValue = union({
  [TypedParamType.INT]: int,
  [TypedParamType.UINT]: uint,
  [TypedParamType.LLONG]: hyper,
  [TypedParamType.ULLONG]: uhyper,
  [TypedParamType.DOUBLE]: double,
  [TypedParamType.BOOLEAN]: int,
  [TypedParamType.STRING]: RemoteNonnullString,
});
export type RemoteTypedParamValue = Infer<typeof RemoteTypedParamValue>;

/** `remote_typed_param`: `{ field; value }`, e.g. `{ field: "hostname", value: { type: 7, … } }`. */
export const RemoteTypedParam = struct({
  field: RemoteNonnullString,
  value: RemoteTypedParamValue,
});
export type RemoteTypedParam = Infer<typeof RemoteTypedParam>;

/** `remote_domain_ip_addr`: `type` 0 is IPv4, 1 is IPv6 (virIPAddrType). */
export const RemoteDomainIpAddr = struct({ type: int, addr: RemoteNonnullString, prefix: uint });
export type RemoteDomainIpAddr = Infer<typeof RemoteDomainIpAddr>;

/** `remote_domain_interface`: one guest interface and its addresses. */
export const RemoteDomainInterface = struct({
  name: RemoteNonnullString,
  hwaddr: RemoteString,
  addrs: array(RemoteDomainIpAddr, REMOTE_DOMAIN_IP_ADDR_MAX),
});
export type RemoteDomainInterface = Infer<typeof RemoteDomainInterface>;

/**
 * `remote_network_dhcp_lease`: `expirytime` is seconds since the epoch (0 = never), `type` 0 IPv4
 * and 1 IPv6; `iaid` is set for IPv6 leases only.
 */
export const RemoteNetworkDhcpLease = struct({
  iface: RemoteNonnullString,
  expirytime: hyper,
  type: int,
  mac: RemoteString,
  iaid: RemoteString,
  ipaddr: RemoteNonnullString,
  prefix: uint,
  hostname: RemoteString,
  clientid: RemoteString,
});
export type RemoteNetworkDhcpLease = Infer<typeof RemoteNetworkDhcpLease>;

/**
 * `char model[32]` of `remote_node_get_info_ret`, as text: 32 chars of four wire bytes each (128
 * bytes, no count), NUL-padded. Decodes up to the first NUL; encodes padded with NULs.
 */
export const NodeInfoModel: Codec<string> = charString(32);

function charString(size: number): Codec<string> {
  const chars = fixedCharArray(size);
  return {
    encode(w, text) {
      const bytes = Buffer.from(text, "utf8");
      if (bytes.length > size) throw new XdrError(`"${text}" does not fit a char[${size}]`);
      chars.encode(w, Buffer.concat([bytes, Buffer.alloc(size - bytes.length)]));
    },
    decode(r) {
      const bytes = chars.decode(r);
      const end = bytes.indexOf(0);
      return bytes.subarray(0, end === -1 ? size : end).toString("utf8");
    },
  };
}

/** `remote_auth_type` */
export enum RemoteAuthType {
  NONE = 0,
  SASL = 1,
  POLKIT = 2,
}

/** `virDrvFeature` values asked with CONNECT_SUPPORTS_FEATURE (src/libvirt_internal.h). */
export enum DriverFeature {
  FD_PASSING = 8,
  TYPED_PARAM_STRING = 9,
  PROGRAM_KEEPALIVE = 10,
  REMOTE_EVENT_CALLBACK = 14,
  REMOTE_CLOSE_CALLBACK = 15,
  NETWORK_UPDATE_HAS_CORRECT_ORDER = 16,
}

/** `virConnectFlags` as sent in CONNECT_OPEN: only bit 0 (read-only) is looked at by servers. */
export const VIR_CONNECT_RO = 1;

/** Formats a 16-byte UUID as libvirt prints it: 8-4-4-4-12 lower-case hex. */
export function formatUuid(uuid: Uint8Array): string {
  const hex = Buffer.from(uuid).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Parses a UUID in libvirt's text form (dashes optional) into 16 bytes. */
export function parseUuid(text: string): Buffer {
  const hex = text.replace(/-/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`not a UUID: ${JSON.stringify(text)}`);
  return Buffer.from(hex, "hex");
}
