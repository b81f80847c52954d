/**
 * xmlbuilder2, loaded on first use. Loading it (with its DOM implementation) costs 0.1–0.3 s,
 * and `require("virtwire")` in a Pulumi program loads the provider's modules without ever building
 * or reading XML: that happens in the provider plugin, and in a program only for a function that
 * reads XML. Resources import `create`, `fragment`, `convert` and `builder` from here, not from xmlbuilder2.
 */
import type * as Xmlbuilder2 from "xmlbuilder2";

type Api = typeof Xmlbuilder2;
let loaded: Api | undefined;

function xmlbuilder2(): Api {
  // A static import would load it with the module; require() here is the deferred load.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (loaded ??= require("xmlbuilder2") as Api);
}

/** xmlbuilder2's function `name`, resolved when first called. */
function deferred<Name extends "create" | "fragment" | "convert" | "builder">(
  name: Name,
): Api[Name] {
  const call = (...args: unknown[]): unknown =>
    (xmlbuilder2()[name] as (...args: unknown[]) => unknown)(...args);
  return call as Api[Name];
}

export const create = deferred("create");
export const fragment = deferred("fragment");
export const convert = deferred("convert");
export const builder = deferred("builder");
