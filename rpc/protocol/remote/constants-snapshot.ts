/**
 * Enums and flag values of the snapshot and block-job procedures (DOMAIN_SNAPSHOT_*,
 * DOMAIN_BLOCK_COMMIT, DOMAIN_BLOCK_JOB_ABORT), from libvirt's public headers
 * (include/libvirt/libvirt-domain{-snapshot,}.h), named as in constants.ts beside this file.
 */

/** `virDomainSnapshotCreateFlags` */
export enum DomainSnapshotCreateFlags {
  REDEFINE = 1,
  CURRENT = 2,
  NO_METADATA = 4,
  HALT = 8,
  DISK_ONLY = 16,
  REUSE_EXT = 32,
  QUIESCE = 64,
  ATOMIC = 128,
  LIVE = 256,
  VALIDATE = 512,
}

/** `virDomainSnapshotDeleteFlags` */
export enum DomainSnapshotDeleteFlags {
  CHILDREN = 1,
  METADATA_ONLY = 2,
  CHILDREN_ONLY = 4,
}

/** `virDomainSnapshotRevertFlags` */
export enum DomainSnapshotRevertFlags {
  RUNNING = 1,
  PAUSED = 2,
  FORCE = 4,
  RESET_NVRAM = 8,
}

/** `virDomainBlockCommitFlags` */
export enum DomainBlockCommitFlags {
  SHALLOW = 1,
  DELETE = 2,
  ACTIVE = 4,
  RELATIVE = 8,
  BANDWIDTH_BYTES = 16,
}

/** `virDomainBlockJobAbortFlags` */
export enum DomainBlockJobAbortFlags {
  ASYNC = 1,
  PIVOT = 2,
}
