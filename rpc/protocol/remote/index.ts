/**
 * The REMOTE program's procedure table: every procedure declared once, named after libvirt's API
 * (`DomainGetXMLDesc` for REMOTE_PROC_DOMAIN_GET_XML_DESC), grouped by object in the files beside
 * this one. Duplicate procedure numbers are refused when the table is built.
 */
import { defineProcedures } from "../program";
import { authProcedures } from "./auth";
import { connectProcedures } from "./connect";
import { domainProcedures } from "./domain";
import { networkProcedures } from "./network";
import { nodeDeviceProcedures } from "./node-device";
import { nwfilterProcedures } from "./nwfilter";
import { RemoteProgram } from "./program";
import { secretProcedures } from "./secret";
import { snapshotProcedures } from "./snapshot";
import { storageProcedures } from "./storage";

export const RemoteProcedures = defineProcedures(RemoteProgram, {
  ...connectProcedures,
  ...authProcedures,
  ...domainProcedures,
  ...networkProcedures,
  ...nodeDeviceProcedures,
  ...storageProcedures,
  ...secretProcedures,
  ...snapshotProcedures,
  ...nwfilterProcedures,
});

export type RemoteProcedures = typeof RemoteProcedures;
export { RemoteProgram };
export * from "./types";
export * from "./constants";
export * from "./constants-snapshot";
