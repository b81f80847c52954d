/**
 * Prints the schema the provider plugin serves (GetSchema: provider/plugin/schema.ts pluginSchema,
 * with the package's version): schema.json with the explicit provider derived from its `config`.
 * scripts/sdk-langs.sh feeds it to Pulumi's Python and Go generators, so the SDKs describe exactly
 * what the plugin answers, `Provider` arguments included.
 *
 *   ts-node --transpile-only scripts/codegen/served-schema.ts > schema.served.json
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { pluginSchema } from "../../provider/plugin/schema";

const root = path.resolve(__dirname, "../..");
const { version } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
  version: string;
};
const schema = JSON.parse(
  pluginSchema(readFileSync(path.join(root, "schema.json"), "utf8"), version),
);
process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
