/**
 * A pool, a network and a volume made outside Pulumi, read into the program by what a user knows
 * them by (`get:pool`, `get:network`, `get:volume`: names, UUIDs, `<pool>/<name>`), with every
 * property exported, as a user would pass them on to new resources.
 */
import * as pulumi from "@pulumi/pulumi";
import * as virtwire from "virtwire";

const config = new pulumi.Config("get");

const pool = virtwire.Pool.get("pool", config.require("pool"));
const network = virtwire.Network.get("network", config.require("network"));
const volume = virtwire.Volume.get("volume", config.require("volume"));

/** Every output property of a resource, with its id. */
function state(resource: pulumi.CustomResource) {
  const outputs = Object.entries(resource).filter(
    ([key, value]) => !key.startsWith("__") && key !== "urn" && pulumi.Output.isInstance(value),
  );
  return pulumi.all(Object.fromEntries(outputs));
}

export const pools = state(pool);
export const networks = state(network);
export const volumes = state(volume);
export const isInstance = [
  virtwire.Pool.isInstance(pool),
  virtwire.Network.isInstance(network),
  virtwire.Pool.isInstance(network),
];
