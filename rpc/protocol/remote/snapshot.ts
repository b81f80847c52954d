/**
 * REMOTE procedures on domain snapshots and the block jobs that merge external overlays back
 * (remote_protocol.x). A snapshot is named by its domain and its name; flags are in ./constants.
 */
import { array, int, struct, uhyper, uint, xdrVoid } from "../../xdr";
import {
  RemoteNonnullDomain,
  RemoteNonnullDomainSnapshot,
  RemoteNonnullString,
  RemoteString,
} from "./types";

/** REMOTE_DOMAIN_SNAPSHOT_LIST_MAX */
const REMOTE_DOMAIN_SNAPSHOT_LIST_MAX = 16384;

const Snap = struct({ snap: RemoteNonnullDomainSnapshot });
const SnapFlags = struct({ snap: RemoteNonnullDomainSnapshot, flags: uint });
const DomPathFlags = struct({ dom: RemoteNonnullDomain, path: RemoteNonnullString, flags: uint });

const snapshots = {
  /** REMOTE_PROC_DOMAIN_SNAPSHOT_CREATE_XML (185) */
  DomainSnapshotCreateXML: [
    185,
    struct({ dom: RemoteNonnullDomain, xml_desc: RemoteNonnullString, flags: uint }),
    Snap,
  ],
  /** REMOTE_PROC_DOMAIN_SNAPSHOT_GET_XML_DESC (186) */
  DomainSnapshotGetXMLDesc: [186, SnapFlags, struct({ xml: RemoteNonnullString })],
  /** REMOTE_PROC_DOMAIN_SNAPSHOT_LOOKUP_BY_NAME (189) */
  DomainSnapshotLookupByName: [
    189,
    struct({ dom: RemoteNonnullDomain, name: RemoteNonnullString, flags: uint }),
    Snap,
  ],
  /** REMOTE_PROC_DOMAIN_REVERT_TO_SNAPSHOT (192): flags DomainSnapshotRevertFlags. */
  DomainRevertToSnapshot: [192, SnapFlags, xdrVoid],
  /** REMOTE_PROC_DOMAIN_SNAPSHOT_DELETE (193): flags DomainSnapshotDeleteFlags. */
  DomainSnapshotDelete: [193, SnapFlags, xdrVoid],
  /** REMOTE_PROC_DOMAIN_SNAPSHOT_GET_PARENT (244): fails with NO_DOMAIN_SNAPSHOT for a root. */
  DomainSnapshotGetParent: [244, SnapFlags, Snap],
  /** REMOTE_PROC_DOMAIN_SNAPSHOT_IS_CURRENT (271) */
  DomainSnapshotIsCurrent: [271, SnapFlags, struct({ current: int })],
  /** REMOTE_PROC_DOMAIN_LIST_ALL_SNAPSHOTS (274); send need_results 1 to get the list. */
  DomainListAllSnapshots: [
    274,
    struct({ dom: RemoteNonnullDomain, need_results: int, flags: uint }),
    struct({
      snapshots: array(RemoteNonnullDomainSnapshot, REMOTE_DOMAIN_SNAPSHOT_LIST_MAX),
      ret: int,
    }),
  ],
} as const;

const blockJobs = {
  /** REMOTE_PROC_DOMAIN_BLOCK_JOB_ABORT (237): flags DomainBlockJobAbortFlags (PIVOT). */
  DomainBlockJobAbort: [237, DomPathFlags, xdrVoid],
  /** REMOTE_PROC_DOMAIN_GET_BLOCK_JOB_INFO (238): `found` 0 when the disk has no job. */
  DomainGetBlockJobInfo: [
    238,
    DomPathFlags,
    struct({ found: int, type: int, bandwidth: uhyper, cur: uhyper, end: uhyper }),
  ],
  /**
   * REMOTE_PROC_DOMAIN_BLOCK_COMMIT (290): `base`/`top` absent for the backing file and the top
   * image; flags DomainBlockCommitFlags (ACTIVE to commit the layer the guest writes to).
   */
  DomainBlockCommit: [
    290,
    struct({
      dom: RemoteNonnullDomain,
      disk: RemoteNonnullString,
      base: RemoteString,
      top: RemoteString,
      bandwidth: uhyper,
      flags: uint,
    }),
    xdrVoid,
  ],
} as const;

export const snapshotProcedures = { ...snapshots, ...blockJobs } as const;
