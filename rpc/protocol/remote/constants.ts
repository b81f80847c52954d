/**
 * Enums and flag values the REMOTE procedures take or return, from libvirt's public headers
 * (include/libvirt/libvirt-{domain,network,secret,host}.h). Names drop libvirt's prefix
 * (`VIR_DOMAIN_UNDEFINE_NVRAM` is `DomainUndefineFlags.NVRAM`); flags combine with `|`.
 */

/** `virDomainState`: DOMAIN_GET_INFO's `state` and DOMAIN_GET_STATE's `state`. */
export enum DomainState {
  NOSTATE = 0,
  RUNNING = 1,
  BLOCKED = 2,
  PAUSED = 3,
  /** Shutting down. */
  SHUTDOWN = 4,
  SHUTOFF = 5,
  CRASHED = 6,
  PMSUSPENDED = 7,
}

/** `virDomainModificationImpact` (also `virNetworkUpdateFlags`): where a change applies. */
export enum AffectFlags {
  CURRENT = 0,
  LIVE = 1,
  CONFIG = 2,
}

/** `virDomainDeviceModifyFlags`: AffectFlags plus FORCE. */
export enum DomainDeviceModifyFlags {
  CURRENT = 0,
  LIVE = 1,
  CONFIG = 2,
  FORCE = 4,
}

/** `virDomainMemoryModFlags`: AffectFlags plus MAXIMUM. */
export enum DomainMemoryModFlags {
  CURRENT = 0,
  LIVE = 1,
  CONFIG = 2,
  MAXIMUM = 4,
}

/** `virDomainVcpuFlags`: AffectFlags plus MAXIMUM, GUEST, HOTPLUGGABLE. */
export enum DomainVcpuFlags {
  CURRENT = 0,
  LIVE = 1,
  CONFIG = 2,
  MAXIMUM = 4,
  GUEST = 8,
  HOTPLUGGABLE = 16,
}

/** `virDomainDefineFlags` (also the network and secret define flags). */
export enum DefineFlags {
  VALIDATE = 1,
}

/** `virDomainCreateFlags`: DOMAIN_CREATE_WITH_FLAGS and DOMAIN_CREATE_XML. */
export enum DomainCreateFlags {
  NONE = 0,
  START_PAUSED = 1,
  START_AUTODESTROY = 2,
  START_BYPASS_CACHE = 4,
  START_FORCE_BOOT = 8,
  START_VALIDATE = 16,
  START_RESET_NVRAM = 32,
}

/** `virDomainUndefineFlagsValues` */
export enum DomainUndefineFlags {
  MANAGED_SAVE = 1,
  SNAPSHOTS_METADATA = 2,
  NVRAM = 4,
  KEEP_NVRAM = 8,
  CHECKPOINTS_METADATA = 16,
  TPM = 32,
  KEEP_TPM = 64,
}

/** `virDomainDestroyFlagsValues` */
export enum DomainDestroyFlags {
  DEFAULT = 0,
  GRACEFUL = 1,
  REMOVE_LOGS = 2,
}

/** `virDomainShutdownFlagValues` and `virDomainRebootFlagValues` (same values). */
export enum DomainShutdownFlags {
  DEFAULT = 0,
  ACPI_POWER_BTN = 1,
  GUEST_AGENT = 2,
  INITCTL = 4,
  SIGNAL = 8,
  PARAVIRT = 16,
}

/** `virDomainXMLFlags`: DOMAIN_GET_XML_DESC. */
export enum DomainXMLFlags {
  SECURE = 1,
  INACTIVE = 2,
  UPDATE_CPU = 4,
  MIGRATABLE = 8,
}

/** `virConnectListAllDomainsFlags`; 0 lists every domain. */
export enum ConnectListAllDomainsFlags {
  ACTIVE = 1,
  INACTIVE = 2,
  PERSISTENT = 4,
  TRANSIENT = 8,
  RUNNING = 16,
  PAUSED = 32,
  SHUTOFF = 64,
  OTHER = 128,
  MANAGEDSAVE = 256,
  NO_MANAGEDSAVE = 512,
  AUTOSTART = 1024,
  NO_AUTOSTART = 2048,
  HAS_SNAPSHOT = 4096,
  NO_SNAPSHOT = 8192,
  HAS_CHECKPOINT = 16384,
  NO_CHECKPOINT = 32768,
}

/** `virDomainInterfaceAddressesSource`: where DOMAIN_INTERFACE_ADDRESSES looks. */
export enum DomainInterfaceAddressesSource {
  /** DHCP leases of libvirt's own networks. */
  LEASE = 0,
  /** The QEMU guest agent. */
  AGENT = 1,
  /** The host's ARP table. */
  ARP = 2,
}

/** `virIPAddrType`: the `type` of an interface address or a DHCP lease. */
export enum IPAddrType {
  IPV4 = 0,
  IPV6 = 1,
}

/** `virDomainGetHostnameFlags`: where DOMAIN_GET_HOSTNAME looks (0 lets the driver choose). */
export enum DomainGetHostnameFlags {
  LEASE = 1,
  AGENT = 2,
}

/** `virDomainMetadataType` */
export enum DomainMetadataType {
  DESCRIPTION = 0,
  TITLE = 1,
  /** A custom element; needs a namespace `uri`, and a `key` (prefix) when set. */
  ELEMENT = 2,
}

/** `virDomainGuestInfoTypes`: DOMAIN_GET_GUEST_INFO's `types` (0 asks for all). */
export enum DomainGuestInfoTypes {
  USERS = 1,
  OS = 2,
  TIMEZONE = 4,
  HOSTNAME = 8,
  FILESYSTEM = 16,
  DISKS = 32,
  INTERFACES = 64,
}

/** `virDomainBlockResizeFlags` */
export enum DomainBlockResizeFlags {
  /** `size` is in bytes rather than KiB. */
  BYTES = 1,
  CAPACITY = 2,
}

/** `virNetworkUpdateCommand` */
export enum NetworkUpdateCommand {
  NONE = 0,
  MODIFY = 1,
  DELETE = 2,
  ADD_LAST = 3,
  ADD_FIRST = 4,
}

/** `virNetworkUpdateSection` */
export enum NetworkUpdateSection {
  NONE = 0,
  BRIDGE = 1,
  DOMAIN = 2,
  IP = 3,
  IP_DHCP_HOST = 4,
  IP_DHCP_RANGE = 5,
  FORWARD = 6,
  FORWARD_INTERFACE = 7,
  FORWARD_PF = 8,
  PORTGROUP = 9,
  DNS_HOST = 10,
  DNS_TXT = 11,
  DNS_SRV = 12,
}

/** `virNetworkXMLFlags` */
export enum NetworkXMLFlags {
  INACTIVE = 1,
}

/** `virConnectListAllNetworksFlags`; 0 lists every network. */
export enum ConnectListAllNetworksFlags {
  INACTIVE = 1,
  ACTIVE = 2,
  PERSISTENT = 4,
  TRANSIENT = 8,
  AUTOSTART = 16,
  NO_AUTOSTART = 32,
}

/** `virSecretUsageType`: the `usageType` of a secret. */
export enum SecretUsageType {
  NONE = 0,
  VOLUME = 1,
  CEPH = 2,
  ISCSI = 3,
  TLS = 4,
  VTPM = 5,
}

/** `virConnectListAllSecretsFlags`; 0 lists every secret. */
export enum ConnectListAllSecretsFlags {
  EPHEMERAL = 1,
  NO_EPHEMERAL = 2,
  PRIVATE = 4,
  NO_PRIVATE = 8,
}

/** `virStoragePoolState`: STORAGE_POOL_GET_INFO's `state`. */
export enum StoragePoolState {
  INACTIVE = 0,
  BUILDING = 1,
  RUNNING = 2,
  DEGRADED = 3,
  INACCESSIBLE = 4,
}

/** `virStoragePoolBuildFlags` */
export enum StoragePoolBuildFlags {
  NEW = 0,
  REPAIR = 1,
  RESIZE = 2,
  NO_OVERWRITE = 4,
  OVERWRITE = 8,
}

/** `virStoragePoolCreateFlags`: STORAGE_POOL_CREATE and STORAGE_POOL_CREATE_XML. */
export enum StoragePoolCreateFlags {
  NORMAL = 0,
  WITH_BUILD = 1,
  WITH_BUILD_OVERWRITE = 2,
  WITH_BUILD_NO_OVERWRITE = 4,
}

/** `virStoragePoolDeleteFlags` */
export enum StoragePoolDeleteFlags {
  NORMAL = 0,
  ZEROED = 1,
}

/** `virStorageXMLFlags`: STORAGE_POOL_GET_XML_DESC. */
export enum StorageXMLFlags {
  INACTIVE = 1,
}

/** `virConnectListAllStoragePoolsFlags`; 0 lists every pool. */
export enum ConnectListAllStoragePoolsFlags {
  INACTIVE = 1,
  ACTIVE = 2,
  PERSISTENT = 4,
  TRANSIENT = 8,
  AUTOSTART = 16,
  NO_AUTOSTART = 32,
  DIR = 64,
  FS = 128,
  NETFS = 256,
  LOGICAL = 512,
  DISK = 1024,
  ISCSI = 2048,
  SCSI = 4096,
  MPATH = 8192,
  RBD = 16384,
  SHEEPDOG = 32768,
  GLUSTER = 65536,
  ZFS = 131072,
  VSTORAGE = 262144,
  ISCSI_DIRECT = 524288,
}

/** `virStorageVolType`: STORAGE_VOL_GET_INFO's `type`. */
export enum StorageVolType {
  FILE = 0,
  BLOCK = 1,
  DIR = 2,
  NETWORK = 3,
  NETDIR = 4,
  PLOOP = 5,
}

/** `virStorageVolCreateFlags`: STORAGE_VOL_CREATE_XML and STORAGE_VOL_CREATE_XML_FROM. */
export enum StorageVolCreateFlags {
  PREALLOC_METADATA = 1,
  REFLINK = 2,
  VALIDATE = 4,
}

/** `virStorageVolDeleteFlags` */
export enum StorageVolDeleteFlags {
  NORMAL = 0,
  ZEROED = 1,
  WITH_SNAPSHOTS = 2,
}

/** `virStorageVolWipeAlgorithm`: STORAGE_VOL_WIPE_PATTERN's `algorithm`. */
export enum StorageVolWipeAlgorithm {
  ZERO = 0,
  NNSA = 1,
  DOD = 2,
  BSI = 3,
  GUTMANN = 4,
  SCHNEIER = 5,
  PFITZNER7 = 6,
  PFITZNER33 = 7,
  RANDOM = 8,
  TRIM = 9,
}

/** `virStorageVolResizeFlags` */
export enum StorageVolResizeFlags {
  ALLOCATE = 1,
  DELTA = 2,
  SHRINK = 4,
}

/** `virStorageVolInfoFlags`: STORAGE_VOL_GET_INFO_FLAGS. */
export enum StorageVolInfoFlags {
  USE_ALLOCATION = 0,
  GET_PHYSICAL = 1,
}

/** `virStorageVolUploadFlags` / `virStorageVolDownloadFlags` */
export enum StorageVolTransferFlags {
  SPARSE_STREAM = 1,
}

/**
 * `virConnectListAllNodeDeviceFlags`: CONNECT_LIST_ALL_NODE_DEVICES lists the devices with any of
 * the capabilities given (0: every device). Each is named after the capability type of the
 * device XML (`<capability type='pci'>` is PCI_DEV).
 */
export enum ConnectListAllNodeDevicesFlags {
  CAP_SYSTEM = 1 << 0,
  CAP_PCI_DEV = 1 << 1,
  CAP_USB_DEV = 1 << 2,
  CAP_USB_INTERFACE = 1 << 3,
  CAP_NET = 1 << 4,
  CAP_SCSI_HOST = 1 << 5,
  CAP_SCSI_TARGET = 1 << 6,
  CAP_SCSI = 1 << 7,
  CAP_STORAGE = 1 << 8,
  CAP_FC_HOST = 1 << 9,
  CAP_VPORTS = 1 << 10,
  CAP_SCSI_GENERIC = 1 << 11,
  CAP_DRM = 1 << 12,
  CAP_MDEV_TYPES = 1 << 13,
  CAP_MDEV = 1 << 14,
  CAP_CCW_DEV = 1 << 15,
  CAP_CSS_DEV = 1 << 16,
  CAP_VDPA = 1 << 17,
  CAP_AP_CARD = 1 << 18,
  CAP_AP_QUEUE = 1 << 19,
  CAP_AP_MATRIX = 1 << 20,
  CAP_VPD = 1 << 21,
  /** Defined but not started (mediated devices); libvirt 7.3 and later. */
  INACTIVE = 1 << 30,
  /** libvirt 7.3 and later. */
  ACTIVE = 2 ** 31,
}
