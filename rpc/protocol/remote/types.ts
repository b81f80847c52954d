/**
 * Basic types of the REMOTE program (src/remote/remote_protocol.x). Field names are libvirt's own,
 * so a declaration here reads like its .x counterpart.
 */
import { Infer, fixedOpaque, int, optional, string, struct } from "../../xdr";

export const REMOTE_STRING_MAX = 4194304;
export const REMOTE_DOMAIN_LIST_MAX = 16384;
export const REMOTE_NETWORK_LIST_MAX = 16384;
export const REMOTE_STORAGE_POOL_LIST_MAX = 16384;
export const REMOTE_STORAGE_VOL_LIST_MAX = 16384;
export const REMOTE_SECRET_LIST_MAX = 16384;
export const REMOTE_AUTH_TYPE_LIST_MAX = 20;
export const REMOTE_AUTH_SASL_DATA_MAX = 65536;
export const REMOTE_SECRET_VALUE_MAX = 65536;
export const REMOTE_DOMAIN_INTERFACE_MAX = 2048;
export const REMOTE_DOMAIN_IP_ADDR_MAX = 2048;
export const REMOTE_NETWORK_DHCP_LEASES_MAX = 65536;
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

export const RemoteDomain = optional(RemoteNonnullDomain);
export const RemoteNetwork = optional(RemoteNonnullNetwork);
export const RemoteStoragePool = optional(RemoteNonnullStoragePool);
export const RemoteSecret = optional(RemoteNonnullSecret);

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
