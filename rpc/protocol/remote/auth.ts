/**
 * REMOTE procedures of the SASL exchange (remote_protocol.x). Allowed before authentication.
 * `data` is a `char` array: four wire bytes per payload byte. `nil = 1` means "no data", which
 * SASL tells apart from empty data.
 */
import { charArray, int, struct, xdrVoid } from "../../xdr";
import { REMOTE_AUTH_SASL_DATA_MAX, RemoteNonnullString } from "./types";

const SaslData = charArray(REMOTE_AUTH_SASL_DATA_MAX);
/** `remote_auth_sasl_start_ret` and `remote_auth_sasl_step_ret` */
const SaslReply = struct({ complete: int, nil: int, data: SaslData });

export const authProcedures = {
  /** REMOTE_PROC_AUTH_SASL_INIT (67): the server's mechanism list, comma-separated. */
  AuthSaslInit: [67, xdrVoid, struct({ mechlist: RemoteNonnullString })],
  /** REMOTE_PROC_AUTH_SASL_START (68) */
  AuthSaslStart: [68, struct({ mech: RemoteNonnullString, nil: int, data: SaslData }), SaslReply],
  /** REMOTE_PROC_AUTH_SASL_STEP (69) */
  AuthSaslStep: [69, struct({ nil: int, data: SaslData }), SaslReply],
} as const;
