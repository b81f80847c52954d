/** Every resource kind the provider serves, by the name in its `__kind` input. */
import type { Registry } from "./kit/resource";
import { cloudInitDiskHandlers } from "./cloud-init-disk/handlers";
import { domainHandlers } from "./domain/handlers";
import { networkHandlers } from "./network/handlers";
import { nwFilterHandlers } from "./nwfilter/handlers";
import { poolHandlers } from "./pool/handlers";
import { volumeHandlers } from "./volume/handlers";

export const registry: Registry = {
  handlers: {
    CloudInitDisk: cloudInitDiskHandlers,
    Domain: domainHandlers,
    Network: networkHandlers,
    NwFilter: nwFilterHandlers,
    Pool: poolHandlers,
    Volume: volumeHandlers,
  },
  nouns: {
    CloudInitDisk: "cloud-init disk",
    Domain: "domain",
    Network: "network",
    NwFilter: "network filter",
    Pool: "storage pool",
    Volume: "volume",
  },
};
