/**
 * `virtwire/provider`: the dynamic provider object itself is this module's export. Every virtwire
 * resource passes this same object, so Pulumi stores `__provider` as a tiny
 * `require("virtwire/provider")` stub instead of a copy of the code: stable across package
 * versions and machines.
 *
 * This file is the composition root: the only one in provider/ that imports resources/.
 */
import { createProvider } from "./dispatch";
import { registry } from "../resources/registry";

const provider = createProvider(registry);
export = provider;
