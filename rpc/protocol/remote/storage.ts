/**
 * REMOTE procedures on storage pools and volumes (remote_protocol.x). Each entry is
 * `[procedure number, args, ret]`; sizes are bytes.
 */
import { array, int, struct, uhyper, uint, xdrVoid } from "../../xdr";
import {
  REMOTE_STORAGE_POOL_LIST_MAX,
  REMOTE_STORAGE_VOL_LIST_MAX,
  RemoteNonnullStoragePool,
  RemoteNonnullStorageVol,
  RemoteNonnullString,
  RemoteString,
  RemoteUuid,
} from "./types";

const Pool = struct({ pool: RemoteNonnullStoragePool });
const PoolFlags = struct({ pool: RemoteNonnullStoragePool, flags: uint });
const Vol = struct({ vol: RemoteNonnullStorageVol });
const VolFlags = struct({ vol: RemoteNonnullStorageVol, flags: uint });
const Xml = struct({ xml: RemoteNonnullString });
const XmlFlags = struct({ xml: RemoteNonnullString, flags: uint });
const Autostart = struct({ autostart: int });
/** `remote_storage_vol_get_info_ret`: `char type` takes four bytes on the wire. */
const VolInfo = struct({ type: int, capacity: uhyper, allocation: uhyper });
/** Upload/download window: offset and length in bytes; length 0 means "to the end". */
const VolTransfer = struct({
  vol: RemoteNonnullStorageVol,
  offset: uhyper,
  length: uhyper,
  flags: uint,
});

export const storageProcedures = {
  /** REMOTE_PROC_CONNECT_FIND_STORAGE_POOL_SOURCES (75) */
  ConnectFindStoragePoolSources: [
    75,
    struct({ type: RemoteNonnullString, srcSpec: RemoteString, flags: uint }),
    Xml,
  ],
  /** REMOTE_PROC_STORAGE_POOL_CREATE_XML (76): a transient pool. */
  StoragePoolCreateXML: [76, XmlFlags, Pool],
  /** REMOTE_PROC_STORAGE_POOL_DEFINE_XML (77) */
  StoragePoolDefineXML: [77, XmlFlags, Pool],
  /** REMOTE_PROC_STORAGE_POOL_CREATE (78): start a defined pool. */
  StoragePoolCreate: [78, PoolFlags, xdrVoid],
  /** REMOTE_PROC_STORAGE_POOL_BUILD (79) */
  StoragePoolBuild: [79, PoolFlags, xdrVoid],
  /** REMOTE_PROC_STORAGE_POOL_DESTROY (80): stop the pool. */
  StoragePoolDestroy: [80, Pool, xdrVoid],
  /** REMOTE_PROC_STORAGE_POOL_DELETE (81): remove the pool's underlying storage. */
  StoragePoolDelete: [81, PoolFlags, xdrVoid],
  /** REMOTE_PROC_STORAGE_POOL_UNDEFINE (82) */
  StoragePoolUndefine: [82, Pool, xdrVoid],
  /** REMOTE_PROC_STORAGE_POOL_REFRESH (83) */
  StoragePoolRefresh: [83, PoolFlags, xdrVoid],
  /** REMOTE_PROC_STORAGE_POOL_LOOKUP_BY_NAME (84) */
  StoragePoolLookupByName: [84, struct({ name: RemoteNonnullString }), Pool],
  /** REMOTE_PROC_STORAGE_POOL_LOOKUP_BY_UUID (85) */
  StoragePoolLookupByUUID: [85, struct({ uuid: RemoteUuid }), Pool],
  /** REMOTE_PROC_STORAGE_POOL_LOOKUP_BY_VOLUME (86) */
  StoragePoolLookupByVolume: [86, Vol, Pool],
  /** REMOTE_PROC_STORAGE_POOL_GET_INFO (87): `unsigned char state` takes four bytes. */
  StoragePoolGetInfo: [
    87,
    Pool,
    struct({ state: uint, capacity: uhyper, allocation: uhyper, available: uhyper }),
  ],
  /** REMOTE_PROC_STORAGE_POOL_GET_XML_DESC (88) */
  StoragePoolGetXMLDesc: [88, PoolFlags, Xml],
  /** REMOTE_PROC_STORAGE_POOL_GET_AUTOSTART (89) */
  StoragePoolGetAutostart: [89, Pool, Autostart],
  /** REMOTE_PROC_STORAGE_POOL_SET_AUTOSTART (90) */
  StoragePoolSetAutostart: [
    90,
    struct({ pool: RemoteNonnullStoragePool, autostart: int }),
    xdrVoid,
  ],
  /** REMOTE_PROC_STORAGE_POOL_NUM_OF_VOLUMES (91) */
  StoragePoolNumOfVolumes: [91, Pool, struct({ num: int })],
  /** REMOTE_PROC_STORAGE_VOL_CREATE_XML (93) */
  StorageVolCreateXML: [
    93,
    struct({ pool: RemoteNonnullStoragePool, xml: RemoteNonnullString, flags: uint }),
    Vol,
  ],
  /** REMOTE_PROC_STORAGE_VOL_DELETE (94) */
  StorageVolDelete: [94, VolFlags, xdrVoid],
  /** REMOTE_PROC_STORAGE_VOL_LOOKUP_BY_NAME (95) */
  StorageVolLookupByName: [
    95,
    struct({ pool: RemoteNonnullStoragePool, name: RemoteNonnullString }),
    Vol,
  ],
  /** REMOTE_PROC_STORAGE_VOL_LOOKUP_BY_KEY (96) */
  StorageVolLookupByKey: [96, struct({ key: RemoteNonnullString }), Vol],
  /** REMOTE_PROC_STORAGE_VOL_LOOKUP_BY_PATH (97) */
  StorageVolLookupByPath: [97, struct({ path: RemoteNonnullString }), Vol],
  /** REMOTE_PROC_STORAGE_VOL_GET_INFO (98) */
  StorageVolGetInfo: [98, Vol, VolInfo],
  /** REMOTE_PROC_STORAGE_VOL_GET_XML_DESC (99) */
  StorageVolGetXMLDesc: [99, VolFlags, Xml],
  /** REMOTE_PROC_STORAGE_VOL_GET_PATH (100) */
  StorageVolGetPath: [100, Vol, struct({ name: RemoteNonnullString })],
  /** REMOTE_PROC_STORAGE_POOL_IS_ACTIVE (154) */
  StoragePoolIsActive: [154, Pool, struct({ active: int })],
  /** REMOTE_PROC_STORAGE_POOL_IS_PERSISTENT (155) */
  StoragePoolIsPersistent: [155, Pool, struct({ persistent: int })],
  /** REMOTE_PROC_STORAGE_VOL_CREATE_XML_FROM (125): a server-side clone of `clonevol`. */
  StorageVolCreateXMLFrom: [
    125,
    struct({
      pool: RemoteNonnullStoragePool,
      xml: RemoteNonnullString,
      clonevol: RemoteNonnullStorageVol,
      flags: uint,
    }),
    Vol,
  ],
  /** REMOTE_PROC_STORAGE_VOL_WIPE (165) */
  StorageVolWipe: [165, VolFlags, xdrVoid],
  /** REMOTE_PROC_STORAGE_VOL_UPLOAD (208): followed by a client→server stream. */
  StorageVolUpload: [208, VolTransfer, xdrVoid],
  /** REMOTE_PROC_STORAGE_VOL_DOWNLOAD (209): followed by a server→client stream. */
  StorageVolDownload: [209, VolTransfer, xdrVoid],
  /** REMOTE_PROC_STORAGE_VOL_WIPE_PATTERN (259) */
  StorageVolWipePattern: [
    259,
    struct({ vol: RemoteNonnullStorageVol, algorithm: uint, flags: uint }),
    xdrVoid,
  ],
  /** REMOTE_PROC_STORAGE_VOL_RESIZE (260) */
  StorageVolResize: [
    260,
    struct({ vol: RemoteNonnullStorageVol, capacity: uhyper, flags: uint }),
    xdrVoid,
  ],
  /** REMOTE_PROC_CONNECT_LIST_ALL_STORAGE_POOLS (281) */
  ConnectListAllStoragePools: [
    281,
    struct({ need_results: int, flags: uint }),
    struct({ pools: array(RemoteNonnullStoragePool, REMOTE_STORAGE_POOL_LIST_MAX), ret: uint }),
  ],
  /** REMOTE_PROC_STORAGE_POOL_LIST_ALL_VOLUMES (282) */
  StoragePoolListAllVolumes: [
    282,
    struct({ pool: RemoteNonnullStoragePool, need_results: int, flags: uint }),
    struct({ vols: array(RemoteNonnullStorageVol, REMOTE_STORAGE_VOL_LIST_MAX), ret: uint }),
  ],
  /** REMOTE_PROC_STORAGE_VOL_GET_INFO_FLAGS (378) */
  StorageVolGetInfoFlags: [378, VolFlags, VolInfo],
  /** REMOTE_PROC_STORAGE_POOL_LOOKUP_BY_TARGET_PATH (391) */
  StoragePoolLookupByTargetPath: [391, struct({ path: RemoteNonnullString }), Pool],
} as const;
