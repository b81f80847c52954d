/** Every resource kind the provider serves, by the name in its `__kind` input. */
import type { Registry } from "./kit/resource";
import { cloudInitDiskHandlers } from "./cloud-init-disk/handlers";
import { domainHandlers } from "./domain/handlers";
import { networkHandlers } from "./network/handlers";
import { poolHandlers } from "./pool/handlers";
import { secretHandlers } from "./secret/handlers";
import { volumeHandlers } from "./volume/handlers";
import { volumeExportHandlers } from "./volume-export/handlers";

export const registry: Registry = {
  handlers: {
    CloudInitDisk: cloudInitDiskHandlers,
    Domain: domainHandlers,
    Network: networkHandlers,
    Pool: poolHandlers,
    Secret: secretHandlers,
    Volume: volumeHandlers,
    VolumeExport: volumeExportHandlers,
  },
  nouns: {
    CloudInitDisk: "cloud-init disk",
    Domain: "domain",
    Network: "network",
    Pool: "storage pool",
    Secret: "secret",
    Volume: "volume",
    VolumeExport: "volume export",
  },
};
