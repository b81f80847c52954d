/**
 * REMOTE procedures on secrets (remote_protocol.x), e.g. Ceph or iSCSI credentials for storage
 * pools. Each entry is `[procedure number, args, ret]`. Values are raw bytes.
 */
import { array, int, opaque, struct, uint, xdrVoid } from "../../xdr";
import {
  REMOTE_SECRET_LIST_MAX,
  REMOTE_SECRET_VALUE_MAX,
  RemoteNonnullSecret,
  RemoteNonnullString,
  RemoteUuid,
} from "./types";

const Secret = struct({ secret: RemoteNonnullSecret });
const SecretFlags = struct({ secret: RemoteNonnullSecret, flags: uint });

export const secretProcedures = {
  /** REMOTE_PROC_SECRET_LOOKUP_BY_UUID (141) */
  SecretLookupByUUID: [141, struct({ uuid: RemoteUuid }), Secret],
  /** REMOTE_PROC_SECRET_DEFINE_XML (142) */
  SecretDefineXML: [142, struct({ xml: RemoteNonnullString, flags: uint }), Secret],
  /** REMOTE_PROC_SECRET_GET_XML_DESC (143) */
  SecretGetXMLDesc: [143, SecretFlags, struct({ xml: RemoteNonnullString })],
  /** REMOTE_PROC_SECRET_SET_VALUE (144) */
  SecretSetValue: [
    144,
    struct({
      secret: RemoteNonnullSecret,
      value: opaque(REMOTE_SECRET_VALUE_MAX),
      flags: uint,
    }),
    xdrVoid,
  ],
  /** REMOTE_PROC_SECRET_GET_VALUE (145): refused for secrets defined with private='yes'. */
  SecretGetValue: [145, SecretFlags, struct({ value: opaque(REMOTE_SECRET_VALUE_MAX) })],
  /** REMOTE_PROC_SECRET_UNDEFINE (146) */
  SecretUndefine: [146, Secret, xdrVoid],
  /** REMOTE_PROC_SECRET_LOOKUP_BY_USAGE (147): `usageType` is a SecretUsageType. */
  SecretLookupByUsage: [147, struct({ usageType: int, usageID: RemoteNonnullString }), Secret],
  /** REMOTE_PROC_CONNECT_LIST_ALL_SECRETS (287); send need_results 1 to get the list. */
  ConnectListAllSecrets: [
    287,
    struct({ need_results: int, flags: uint }),
    struct({ secrets: array(RemoteNonnullSecret, REMOTE_SECRET_LIST_MAX), ret: uint }),
  ],
} as const;
