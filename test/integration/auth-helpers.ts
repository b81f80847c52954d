/**
 * Shared by the auth-*.test.ts files: a stack (the real dynamic-provider plugin serving the packed
 * virtwire, with the engine's step model) per stack config. The plugin configures the provider
 * once per process, so every config gets a plugin of its own; the packed package and program
 * directory are shared.
 */
import { Engine } from "../support/engine";
import {
  SerializedProvider,
  packVirtwire,
  prepareProgramDir,
  serializeProvider,
} from "../support/program-dir";
import { PulumiPlugin } from "../support/pulumi-plugin";
import type { PropertyMap } from "../support/pulumi-wire";
import { resourceInputs, virtwireType } from "../support/virtwire-engine";

export const POOL = virtwireType("Pool");

let program: Promise<{ dir: string; provider: SerializedProvider }> | undefined;

function programDir(): Promise<{ dir: string; provider: SerializedProvider }> {
  program ??= (async () => {
    const dir = (await prepareProgramDir([await packVirtwire()])).dir;
    return { dir, provider: await serializeProvider(dir, "virtwire/provider") };
  })();
  return program;
}

export interface Stack {
  plugin: PulumiPlugin;
  engine: Engine;
  /** Destroys what the engine still holds (ignoring failures), then stops the plugin. */
  stop(): Promise<void>;
}

/**
 * A stack with this config (namespaced keys; `secretKeys` set with --secret). `env` is added to
 * the plugin's environment; SSH_AUTH_SOCK is emptied unless given, so no agent of the machine
 * running the tests takes part.
 */
export async function startStack(
  config: Record<string, string>,
  secretKeys: string[] = [],
  env: Record<string, string> = {},
): Promise<Stack> {
  const { dir, provider } = await programDir();
  const plugin = await PulumiPlugin.start(dir, { env: { SSH_AUTH_SOCK: "", ...env } });
  const engine = new Engine(plugin, { provider, config, secretKeys });
  return {
    plugin,
    engine,
    stop: async () => {
      await engine.destroy().catch(() => undefined);
      await plugin.stop();
    },
  };
}

/** The inputs of a `new Pool(name, { type: "dir", targetPath, host })`. */
export function poolInputs(name: string, targetPath: string, host?: string): PropertyMap {
  return resourceInputs("Pool", name, {
    type: "dir",
    targetPath,
    ...(host !== undefined && { host }),
  } as PropertyMap);
}

/** The error a step failed with (the step must fail). */
export async function stepFailure(promise: Promise<unknown>): Promise<Error> {
  const result = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(result instanceof Error)) throw new Error("the step was expected to fail");
  return result;
}
