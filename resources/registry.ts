/** Every resource kind the provider serves, by the name in its `__kind` input. */
import type { Registry } from "../provider/dispatch";
import { poolHandlers } from "./pool/handlers";

export const registry: Registry = {
  handlers: {
    Pool: poolHandlers,
  },
  nouns: {
    Pool: "storage pool",
  },
};
