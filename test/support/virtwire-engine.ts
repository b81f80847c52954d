/**
 * The real dynamic-provider plugin of @pulumi/pulumi serving virtwire's provider, installed from a
 * packed tarball like a user's install, with the engine's step model on top: what resource
 * lifecycle tests drive instead of calling handlers.
 */
import { Engine } from "./engine";
import {
  packVirtwire,
  prepareProgramDir,
  SerializedProvider,
  serializeProvider,
} from "./program-dir";
import { PulumiPlugin } from "./pulumi-plugin";
import type { PropertyMap } from "./pulumi-wire";
import { TEST_URI } from "./testbed";

/** `pulumi-nodejs:dynamic/virtwire:<Kind>`, the type token of a virtwire resource. */
export const virtwireType = (kind: string) => `pulumi-nodejs:dynamic/virtwire:${kind}`;

export interface VirtwireHarness {
  plugin: PulumiPlugin;
  provider: SerializedProvider;
  /** A fresh engine (an empty stack) with this stack config. */
  engine(config?: Record<string, string>, secretKeys?: string[]): Engine;
  stop(): Promise<void>;
}

export async function startVirtwire(): Promise<VirtwireHarness> {
  const program = await prepareProgramDir([await packVirtwire()]);
  const provider = await serializeProvider(program.dir, "virtwire/provider");
  const plugin = await PulumiPlugin.start(program.dir);
  return {
    plugin,
    provider,
    engine: (config = {}, secretKeys = []) =>
      new Engine(plugin, { provider, config: { "virtwire:uri": TEST_URI, ...config }, secretKeys }),
    stop: () => plugin.stop(),
  };
}

/** The inputs the generated resource class would register: kind and logical name included. */
export function resourceInputs(kind: string, name: string, args: PropertyMap): PropertyMap {
  return { __kind: kind, __logicalName: name, ...args };
}
