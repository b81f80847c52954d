/**
 * schema.json's `functions` (data sources) → TypeScript, beside gen-sdk.ts's resources:
 *
 *   resources/kit/generated/types.ts  `GetNodeInfoArgs` and `GetNodeInfoResult`, plain shapes
 *   sdk/index.ts                      `getNodeInfo(args?, opts?)`, a promise of the result, and
 *                                     `getNodeInfoOutput(args?, opts?)`, whose args may be Outputs
 *
 * The functions run in the program's own process (provider/functions.ts: the stack's virtwire
 * config, or `opts.connection`), so they work with the dynamic provider, with nothing installed.
 */
import type { FunctionSchema, PackageSchema } from "../../resources/kit/schema-types";
import { doc, fields, tokenName } from "./ts-types";

/** What sdk/index.ts imports for the functions. */
export const FUNCTIONS_IMPORT = `import { callFunction } from "../provider/functions";
import type { FunctionOptions } from "../provider/functions";
export type { FunctionOptions } from "../provider/functions";
`;

/** `virtwire:index:getNodeInfo` → `GetNodeInfo`, the stem of its Args and Result types. */
function typeStem(token: string): string {
  const name = tokenName(token);
  return name.charAt(0).toUpperCase() + name.slice(1);
}

function entries(schema: PackageSchema): [string, FunctionSchema][] {
  return Object.entries(schema.functions ?? {});
}

/** The plain argument and result shapes of every function, for types.ts. */
export function functionTypes(schema: PackageSchema): string[] {
  return entries(schema).flatMap(([token, fn]) => {
    const name = tokenName(token);
    const stem = typeStem(token);
    return [
      `/** The arguments of {@link ${name}}. */\nexport interface ${stem}Args {\n${fields(schema, fn.inputs?.properties ?? {}, fn.inputs?.required ?? [], false)}\n}\n`,
      `/** What {@link ${name}} returns. */\nexport interface ${stem}Result {\n${fields(schema, fn.outputs.properties, fn.outputs.required ?? [], false)}\n}\n`,
    ];
  });
}

/** Each function as a plain async function and its Output form, for sdk/index.ts. */
export function functionWrappers(schema: PackageSchema): string[] {
  return entries(schema).map(([token, fn]) => {
    const name = tokenName(token);
    const stem = typeStem(token);
    const required = (fn.inputs?.required ?? []).length > 0;
    const argsParam = required ? "args" : "args?";
    const usage =
      "Runs when the program runs (in `pulumi preview` too), connected to the host as the stack's " +
      "virtwire config says (`virtwire:uri`, `virtwire:hosts`, credentials); outside Pulumi, or " +
      "for a host of no stack, give `opts.connection`. Fails when the host cannot be reached.";
    return `/** The arguments of {@link ${name}Output}: those of {@link ${name}}, each of which may be an Output. */
export interface ${stem}OutputArgs {
${fields(schema, fn.inputs?.properties ?? {}, fn.inputs?.required ?? [], true, "types.")}
}

${doc(`${fn.description ?? ""}\n\n${usage}`)}export function ${name}(${argsParam}: types.${stem}Args, opts?: FunctionOptions): Promise<types.${stem}Result> {
  return callFunction<types.${stem}Result>(${JSON.stringify(token)}, { ...args }, opts);
}

/** {@link ${name}} with arguments that may be Outputs (another resource's outputs): an Output of its result. */
export function ${name}Output(${argsParam}: ${stem}OutputArgs, opts?: FunctionOptions): pulumi.Output<types.${stem}Result> {
  return pulumi.output(args ?? {}).apply((resolved) => ${name}(resolved as types.${stem}Args, opts));
}
`;
  });
}
