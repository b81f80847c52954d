/**
 * Shared by the auth-*.test.ts files, which run a stack per stack config through
 * `VirtwireEngine.start({ config, secretKeys, env })` (test/support/virtwire-engine.ts).
 */
import { rejection } from "../support/promises";
import type { PropertyMap } from "../support/pulumi-wire";
import { resourceInputs, virtwireType } from "../support/virtwire-engine";

export const POOL = virtwireType("Pool");

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
  const error = await rejection(promise);
  if (!(error instanceof Error)) throw new Error("the step did not fail with an Error");
  return error;
}
