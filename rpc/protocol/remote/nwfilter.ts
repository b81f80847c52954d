/**
 * REMOTE procedures on network filters (remote_protocol.x): firewall rules libvirt applies to a
 * guest's NICs. Each entry is `[procedure number, args, ret]`. A filter's XML has no flags to
 * define it with (NWFILTER_DEFINE_XML_FLAGS, 2020, is not needed by virtwire).
 */
import { array, int, struct, uint, xdrVoid } from "../../xdr";
import {
  REMOTE_NWFILTER_LIST_MAX,
  RemoteNonnullNWFilter,
  RemoteNonnullString,
  RemoteUuid,
} from "./types";

const NWFilter = struct({ nwfilter: RemoteNonnullNWFilter });

export const nwfilterProcedures = {
  /** REMOTE_PROC_NWFILTER_LOOKUP_BY_NAME (175) */
  NWFilterLookupByName: [175, struct({ name: RemoteNonnullString }), NWFilter],
  /** REMOTE_PROC_NWFILTER_LOOKUP_BY_UUID (176) */
  NWFilterLookupByUUID: [176, struct({ uuid: RemoteUuid }), NWFilter],
  /** REMOTE_PROC_NWFILTER_GET_XML_DESC (177) */
  NWFilterGetXMLDesc: [
    177,
    struct({ nwfilter: RemoteNonnullNWFilter, flags: uint }),
    struct({ xml: RemoteNonnullString }),
  ],
  /** REMOTE_PROC_NWFILTER_DEFINE_XML (180): defines a new filter or redefines one of that name. */
  NWFilterDefineXML: [180, struct({ xml: RemoteNonnullString }), NWFilter],
  /** REMOTE_PROC_NWFILTER_UNDEFINE (181): refused (OPERATION_INVALID) while a NIC uses it. */
  NWFilterUndefine: [181, NWFilter, xdrVoid],
  /** REMOTE_PROC_CONNECT_LIST_ALL_NWFILTERS (286); send need_results 1 to get the list. */
  ConnectListAllNWFilters: [
    286,
    struct({ need_results: int, flags: uint }),
    struct({ filters: array(RemoteNonnullNWFilter, REMOTE_NWFILTER_LIST_MAX), ret: uint }),
  ],
} as const;
