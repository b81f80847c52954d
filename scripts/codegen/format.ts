import { format, resolveConfig } from "prettier";
import { join } from "node:path";

/** Formats generated TypeScript with the repository's Prettier settings. */
export async function formatGenerated(
  files: Record<string, string>,
): Promise<Record<string, string>> {
  const root = join(__dirname, "..", "..");
  const options = (await resolveConfig(join(root, "package.json"))) ?? {};
  const formatted: Record<string, string> = {};
  for (const [path, content] of Object.entries(files)) {
    formatted[path] = await format(content, { ...options, filepath: join(root, path) });
  }
  return formatted;
}
