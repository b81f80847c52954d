/**
 * REMOTE procedures on domains (remote_protocol.x). Each entry is `[procedure number, args, ret]`;
 * memory sizes are KiB, times nanoseconds, booleans ints (0/1). Flag values are in ./constants.
 */
import { array, int, struct, uhyper, uint, xdrVoid } from "../../xdr";
import {
  REMOTE_DOMAIN_BLOCK_IO_TUNE_PARAMETERS_MAX,
  REMOTE_DOMAIN_GUEST_INFO_PARAMS_MAX,
  REMOTE_DOMAIN_INTERFACE_MAX,
  REMOTE_DOMAIN_LIST_MAX,
  RemoteDomainInterface,
  RemoteNonnullDomain,
  RemoteNonnullString,
  RemoteString,
  RemoteTypedParam,
  RemoteUuid,
} from "./types";

const Dom = struct({ dom: RemoteNonnullDomain });
const DomFlags = struct({ dom: RemoteNonnullDomain, flags: uint });
const DomXml = struct({ dom: RemoteNonnullDomain, xml: RemoteNonnullString });
const DomXmlFlags = struct({ dom: RemoteNonnullDomain, xml: RemoteNonnullString, flags: uint });
const DomMemory = struct({ dom: RemoteNonnullDomain, memory: uhyper });

/** `remote_domain_get_info_ret`: `unsigned char state` and `unsigned short nrVirtCpu` take 4 bytes. */
const DomainInfo = struct({
  state: uint,
  maxMem: uhyper,
  memory: uhyper,
  nrVirtCpu: uint,
  cpuTime: uhyper,
});

const lifecycle = {
  /** REMOTE_PROC_DOMAIN_CREATE (9): start a defined domain. */
  DomainCreate: [9, Dom, xdrVoid],
  /** REMOTE_PROC_DOMAIN_CREATE_XML (10): start a transient domain. */
  DomainCreateXML: [10, struct({ xml_desc: RemoteNonnullString, flags: uint }), Dom],
  /** REMOTE_PROC_DOMAIN_DEFINE_XML (11) */
  DomainDefineXML: [11, struct({ xml: RemoteNonnullString }), Dom],
  /** REMOTE_PROC_DOMAIN_DESTROY (12): stop at once. */
  DomainDestroy: [12, Dom, xdrVoid],
  /** REMOTE_PROC_DOMAIN_REBOOT (27) */
  DomainReboot: [27, DomFlags, xdrVoid],
  /** REMOTE_PROC_DOMAIN_RESUME (28) */
  DomainResume: [28, Dom, xdrVoid],
  /** REMOTE_PROC_DOMAIN_SHUTDOWN (33): ask the guest to power off. */
  DomainShutdown: [33, Dom, xdrVoid],
  /** REMOTE_PROC_DOMAIN_SUSPEND (34) */
  DomainSuspend: [34, Dom, xdrVoid],
  /** REMOTE_PROC_DOMAIN_UNDEFINE (35) */
  DomainUndefine: [35, Dom, xdrVoid],
  /** REMOTE_PROC_DOMAIN_CREATE_WITH_FLAGS (196): returns the domain with its running id. */
  DomainCreateWithFlags: [196, DomFlags, Dom],
  /** REMOTE_PROC_DOMAIN_UNDEFINE_FLAGS (231) */
  DomainUndefineFlags: [231, DomFlags, xdrVoid],
  /** REMOTE_PROC_DOMAIN_DESTROY_FLAGS (234) */
  DomainDestroyFlags: [234, DomFlags, xdrVoid],
  /** REMOTE_PROC_DOMAIN_RESET (245): a hard reset, without asking the guest. */
  DomainReset: [245, DomFlags, xdrVoid],
  /** REMOTE_PROC_DOMAIN_SHUTDOWN_FLAGS (258) */
  DomainShutdownFlags: [258, DomFlags, xdrVoid],
  /** REMOTE_PROC_DOMAIN_DEFINE_XML_FLAGS (350) */
  DomainDefineXMLFlags: [350, struct({ xml: RemoteNonnullString, flags: uint }), Dom],
  /** REMOTE_PROC_DOMAIN_MANAGED_SAVE (182): save the memory to disk and stop. */
  DomainManagedSave: [182, DomFlags, xdrVoid],
  /** REMOTE_PROC_DOMAIN_HAS_MANAGED_SAVE_IMAGE (183) */
  DomainHasManagedSaveImage: [183, DomFlags, struct({ result: int })],
  /** REMOTE_PROC_DOMAIN_MANAGED_SAVE_REMOVE (184) */
  DomainManagedSaveRemove: [184, DomFlags, xdrVoid],
} as const;

const lookupAndState = {
  /** REMOTE_PROC_DOMAIN_GET_XML_DESC (14) */
  DomainGetXMLDesc: [14, DomFlags, struct({ xml: RemoteNonnullString })],
  /** REMOTE_PROC_DOMAIN_GET_AUTOSTART (15) */
  DomainGetAutostart: [15, Dom, struct({ autostart: int })],
  /** REMOTE_PROC_DOMAIN_GET_INFO (16) */
  DomainGetInfo: [16, Dom, DomainInfo],
  /** REMOTE_PROC_DOMAIN_LOOKUP_BY_ID (22) */
  DomainLookupByID: [22, struct({ id: int }), Dom],
  /** REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME (23) */
  DomainLookupByName: [23, struct({ name: RemoteNonnullString }), Dom],
  /** REMOTE_PROC_DOMAIN_LOOKUP_BY_UUID (24) */
  DomainLookupByUUID: [24, struct({ uuid: RemoteUuid }), Dom],
  /** REMOTE_PROC_DOMAIN_SET_AUTOSTART (29) */
  DomainSetAutostart: [29, struct({ dom: RemoteNonnullDomain, autostart: int }), xdrVoid],
  /** REMOTE_PROC_DOMAIN_IS_ACTIVE (150) */
  DomainIsActive: [150, Dom, struct({ active: int })],
  /** REMOTE_PROC_DOMAIN_IS_PERSISTENT (151) */
  DomainIsPersistent: [151, Dom, struct({ persistent: int })],
  /** REMOTE_PROC_DOMAIN_IS_UPDATED (202): whether the live definition differs from the config. */
  DomainIsUpdated: [202, Dom, struct({ updated: int })],
  /** REMOTE_PROC_DOMAIN_GET_STATE (212): `state` is a DomainState, `reason` depends on it. */
  DomainGetState: [212, DomFlags, struct({ state: int, reason: int })],
  /** REMOTE_PROC_CONNECT_LIST_ALL_DOMAINS (273); send need_results 1 to get the list. */
  ConnectListAllDomains: [
    273,
    struct({ need_results: int, flags: uint }),
    struct({ domains: array(RemoteNonnullDomain, REMOTE_DOMAIN_LIST_MAX), ret: uint }),
  ],
  /** REMOTE_PROC_DOMAIN_GET_HOSTNAME (277): flags choose lease or agent (DomainGetHostnameFlags). */
  DomainGetHostname: [277, DomFlags, struct({ hostname: RemoteNonnullString })],
  /** REMOTE_PROC_DOMAIN_INTERFACE_ADDRESSES (353): `source` is a DomainInterfaceAddressesSource. */
  DomainInterfaceAddresses: [
    353,
    struct({ dom: RemoteNonnullDomain, source: uint, flags: uint }),
    struct({ ifaces: array(RemoteDomainInterface, REMOTE_DOMAIN_INTERFACE_MAX) }),
  ],
  /** REMOTE_PROC_DOMAIN_GET_GUEST_INFO (418): needs the guest agent; `types` DomainGuestInfoTypes. */
  DomainGetGuestInfo: [
    418,
    struct({ dom: RemoteNonnullDomain, types: uint, flags: uint }),
    struct({ params: array(RemoteTypedParam, REMOTE_DOMAIN_GUEST_INFO_PARAMS_MAX) }),
  ],
} as const;

const devices = {
  /** REMOTE_PROC_DOMAIN_ATTACH_DEVICE (8): live only. */
  DomainAttachDevice: [8, DomXml, xdrVoid],
  /** REMOTE_PROC_DOMAIN_DETACH_DEVICE (13): live only. */
  DomainDetachDevice: [13, DomXml, xdrVoid],
  /** REMOTE_PROC_DOMAIN_ATTACH_DEVICE_FLAGS (160) */
  DomainAttachDeviceFlags: [160, DomXmlFlags, xdrVoid],
  /** REMOTE_PROC_DOMAIN_DETACH_DEVICE_FLAGS (161) */
  DomainDetachDeviceFlags: [161, DomXmlFlags, xdrVoid],
  /** REMOTE_PROC_DOMAIN_UPDATE_DEVICE_FLAGS (174) */
  DomainUpdateDeviceFlags: [174, DomXmlFlags, xdrVoid],
  /** REMOTE_PROC_DOMAIN_DETACH_DEVICE_ALIAS (392): `alias` as in `<alias name='ua-…'/>`. */
  DomainDetachDeviceAlias: [
    392,
    struct({ dom: RemoteNonnullDomain, alias: RemoteNonnullString, flags: uint }),
    xdrVoid,
  ],
  /** REMOTE_PROC_DOMAIN_GET_BLOCK_INFO (194): sizes in bytes; `path` is a disk target or source. */
  DomainGetBlockInfo: [
    194,
    struct({ dom: RemoteNonnullDomain, path: RemoteNonnullString, flags: uint }),
    struct({ allocation: uhyper, capacity: uhyper, physical: uhyper }),
  ],
  /** REMOTE_PROC_DOMAIN_BLOCK_RESIZE (251): `size` in KiB, or bytes with DomainBlockResizeFlags.BYTES. */
  DomainBlockResize: [
    251,
    struct({ dom: RemoteNonnullDomain, disk: RemoteNonnullString, size: uhyper, flags: uint }),
    xdrVoid,
  ],
  /**
   * REMOTE_PROC_DOMAIN_SET_BLOCK_IO_TUNE (252): a disk's I/O limits (`total_bytes_sec`,
   * `read_iops_sec_max`…, ULLONG typed params), live and/or in the config (AffectFlags).
   */
  DomainSetBlockIoTune: [
    252,
    struct({
      dom: RemoteNonnullDomain,
      disk: RemoteNonnullString,
      params: array(RemoteTypedParam, REMOTE_DOMAIN_BLOCK_IO_TUNE_PARAMETERS_MAX),
      flags: uint,
    }),
    xdrVoid,
  ],
} as const;

const resources = {
  /** REMOTE_PROC_DOMAIN_GET_MAX_MEMORY (17) */
  DomainGetMaxMemory: [17, Dom, struct({ memory: uhyper })],
  /** REMOTE_PROC_DOMAIN_SET_MAX_MEMORY (30) */
  DomainSetMaxMemory: [30, DomMemory, xdrVoid],
  /** REMOTE_PROC_DOMAIN_SET_MEMORY (31): the balloon target of a running domain. */
  DomainSetMemory: [31, DomMemory, xdrVoid],
  /** REMOTE_PROC_DOMAIN_SET_VCPUS (32): live only. */
  DomainSetVcpus: [32, struct({ dom: RemoteNonnullDomain, nvcpus: uint }), xdrVoid],
  /** REMOTE_PROC_DOMAIN_SET_VCPUS_FLAGS (199) */
  DomainSetVcpusFlags: [
    199,
    struct({ dom: RemoteNonnullDomain, nvcpus: uint, flags: uint }),
    xdrVoid,
  ],
  /** REMOTE_PROC_DOMAIN_GET_VCPUS_FLAGS (200) */
  DomainGetVcpusFlags: [200, DomFlags, struct({ num: int })],
  /** REMOTE_PROC_DOMAIN_SET_MEMORY_FLAGS (204) */
  DomainSetMemoryFlags: [
    204,
    struct({ dom: RemoteNonnullDomain, memory: uhyper, flags: uint }),
    xdrVoid,
  ],
  /** REMOTE_PROC_DOMAIN_SET_METADATA (264): absent `metadata` removes it. */
  DomainSetMetadata: [
    264,
    struct({
      dom: RemoteNonnullDomain,
      type: int,
      metadata: RemoteString,
      key: RemoteString,
      uri: RemoteString,
      flags: uint,
    }),
    xdrVoid,
  ],
  /** REMOTE_PROC_DOMAIN_GET_METADATA (265) */
  DomainGetMetadata: [
    265,
    struct({ dom: RemoteNonnullDomain, type: int, uri: RemoteString, flags: uint }),
    struct({ metadata: RemoteNonnullString }),
  ],
} as const;

const conversion = {
  /**
   * REMOTE_PROC_CONNECT_DOMAIN_XML_TO_NATIVE (136): the hypervisor's command line for a domain XML
   * (`nativeFormat` "qemu-argv"). Parses and validates the XML as a define would, and defines
   * nothing.
   */
  ConnectDomainXMLToNative: [
    136,
    struct({ nativeFormat: RemoteNonnullString, domainXml: RemoteNonnullString, flags: uint }),
    struct({ nativeConfig: RemoteNonnullString }),
  ],
} as const;

export const domainProcedures = {
  ...lifecycle,
  ...lookupAndState,
  ...devices,
  ...resources,
  ...conversion,
} as const;
