/** Every resource kind the provider serves, by the name in its `__kind` input. */
import type { Registry } from "./kit/resource";
import { cloudInitDiskHandlers } from "./cloud-init-disk/handlers";
import { domainHandlers } from "./domain/handlers";
import { combustionScriptHandlers, ignitionConfigHandlers } from "./first-boot/kinds";
import { domainSnapshotHandlers } from "./domain-snapshot/handlers";
import { networkHandlers } from "./network/handlers";
import { nwFilterHandlers } from "./nwfilter/handlers";
import { poolHandlers } from "./pool/handlers";
import { secretHandlers } from "./secret/handlers";
import { volumeHandlers } from "./volume/handlers";
import { volumeExportHandlers } from "./volume-export/handlers";

export const registry: Registry = {
  handlers: {
    CloudInitDisk: cloudInitDiskHandlers,
    CombustionScript: combustionScriptHandlers,
    Domain: domainHandlers,
    IgnitionConfig: ignitionConfigHandlers,
    DomainSnapshot: domainSnapshotHandlers,
    Network: networkHandlers,
    NwFilter: nwFilterHandlers,
    Pool: poolHandlers,
    Secret: secretHandlers,
    Volume: volumeHandlers,
    VolumeExport: volumeExportHandlers,
  },
  nouns: {
    CloudInitDisk: "cloud-init disk",
    CombustionScript: "Combustion script",
    Domain: "domain",
    IgnitionConfig: "Ignition config",
    DomainSnapshot: "domain snapshot",
    Network: "network",
    NwFilter: "network filter",
    Pool: "storage pool",
    Secret: "secret",
    Volume: "volume",
    VolumeExport: "volume export",
  },
};
