/**
 * `npm run gen`: regenerates sdk/ from schema.json and formats it with Prettier, so the output is
 * the same on every machine. `--check` only reports whether sdk/ is stale.
 */
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { generateSdk } from "./gen-sdk";
import { formatGenerated } from "./format";
import { generateReference, updateReadme } from "./gen-docs";

async function main(): Promise<void> {
  const root = join(__dirname, "..", "..");
  const check = process.argv.includes("--check");
  const schema = JSON.parse(readFileSync(join(root, "schema.json"), "utf8"));
  const files = await formatGenerated(generateSdk(schema));
  files["README.md"] = updateReadme(
    readFileSync(join(root, "README.md"), "utf8"),
    generateReference(schema),
  );
  let stale = 0;
  for (const [path, content] of Object.entries(files)) {
    const target = join(root, path);
    let current = "";
    try {
      current = readFileSync(target, "utf8");
    } catch {
      // missing: stale
    }
    if (current === content) continue;
    stale++;
    if (check) {
      console.error(`gen: ${path} is stale; run npm run gen`);
    } else {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
      console.log(`gen: wrote ${path}`);
    }
  }
  if (check && stale > 0) process.exit(1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
