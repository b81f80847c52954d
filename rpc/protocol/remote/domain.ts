/**
 * REMOTE procedures on domains (remote_protocol.x). Each entry is `[procedure number, args, ret]`.
 */
import { array, int, struct, uint } from "../../xdr";
import {
  REMOTE_DOMAIN_LIST_MAX,
  RemoteNonnullDomain,
  RemoteNonnullString,
  RemoteUuid,
} from "./types";

export const domainProcedures = {
  /** REMOTE_PROC_DOMAIN_LOOKUP_BY_ID (22) */
  DomainLookupByID: [22, struct({ id: int }), struct({ dom: RemoteNonnullDomain })],
  /** REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME (23) */
  DomainLookupByName: [
    23,
    struct({ name: RemoteNonnullString }),
    struct({ dom: RemoteNonnullDomain }),
  ],
  /** REMOTE_PROC_DOMAIN_LOOKUP_BY_UUID (24) */
  DomainLookupByUUID: [24, struct({ uuid: RemoteUuid }), struct({ dom: RemoteNonnullDomain })],
  /** REMOTE_PROC_DOMAIN_GET_XML_DESC (14) */
  DomainGetXMLDesc: [
    14,
    struct({ dom: RemoteNonnullDomain, flags: uint }),
    struct({ xml: RemoteNonnullString }),
  ],
  /** REMOTE_PROC_CONNECT_LIST_ALL_DOMAINS (273); send need_results 1 to get the list. */
  ConnectListAllDomains: [
    273,
    struct({ need_results: int, flags: uint }),
    struct({ domains: array(RemoteNonnullDomain, REMOTE_DOMAIN_LIST_MAX), ret: uint }),
  ],
} as const;
