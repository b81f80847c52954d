/**
 * The fenced code blocks of a Markdown file (the README) with what the tests do with each. Every
 * block carries an HTML comment on the line before it, so that none is skipped silently:
 *
 *   <!-- snippet <id>: <how> [<argument>] [— <note>] -->
 *
 * or, for a snippet type-checked with declarations of what it uses from elsewhere, the same first
 * line without `-->`, then TypeScript lines that go before the snippet, then `-->`. <how> is
 *
 *   program            (ts) a Pulumi program, or a part of one: the parts with the same id make one
 *                      program in their order; test/e2e/readme-snippets.test.ts runs it on the test
 *                      bed through the Pulumi CLI (up, preview without changes, destroy)
 *   module             (ts) an ES module, type-checked and run with node on the test bed
 *   typecheck program|module  (ts) type-checked only, as a CommonJS program or an ES module; the
 *                      note says why it cannot run here
 *   config             (sh) `pulumi config` lines run in the stack of program <id> before its `up`
 *   test <path>        run by that test file, which finds the snippet by its id
 *   output             what a command prints; not run
 *   manual             not run; the note says why
 */
import * as fs from "node:fs";

export type How = "program" | "module" | "typecheck" | "config" | "test" | "output" | "manual";

export interface Snippet {
  id: string;
  how: How;
  /** `program` or `module` for typecheck, the test file for test. */
  argument?: string;
  note?: string;
  /** The fence's language (`ts`, `sh`, `ini`, or "" for a plain block). */
  language: string;
  code: string;
  /** TypeScript that goes before the code (declarations of what it uses from elsewhere). */
  prelude: string;
  /** 1-based line of the opening fence. */
  line: number;
}

const HOWS = new Set<How>(["program", "module", "typecheck", "config", "test", "output", "manual"]);
const MARKER = /^<!-- snippet ([\w-]+): (\w+)(?: (?!-->)([^\s—]+))?(?: — (.*?))?\s*(-->)?$/;

/** The snippets of a Markdown text, or an error naming the line of a block that has no marker. */
export function readSnippets(markdown: string, file = "README.md"): Snippet[] {
  const lines = markdown.split("\n");
  const snippets: Snippet[] = [];
  for (let index = 0; index < lines.length; index++) {
    const fence = /^```(\w*)\s*$/.exec(lines[index]!);
    if (!fence) continue;
    const start = index;
    const end = lines.findIndex((line, at) => at > start && line === "```");
    if (end < 0) throw new Error(`${file}:${start + 1}: a code block that never ends`);
    const marker = markerBefore(lines, start, file);
    snippets.push({
      ...marker,
      language: fence[1]!,
      code: lines.slice(start + 1, end).join("\n") + "\n",
      line: start + 1,
    });
    index = end;
  }
  return snippets;
}

function markerBefore(
  lines: string[],
  fence: number,
  file: string,
): Omit<Snippet, "language" | "code" | "line"> {
  const missing = new Error(
    `${file}:${fence + 1}: a code block without a "<!-- snippet <id>: <how> -->" line before it (scripts/readme-snippets.ts says which)`,
  );
  // A one-line marker right before the fence, or a multi-line one ending there with "-->".
  let first = fence - 1;
  if (lines[first] === "-->") {
    while (first > 0 && !lines[first]!.startsWith("<!-- snippet ")) first--;
  }
  const match = MARKER.exec(lines[first] ?? "");
  if (!match) throw missing;
  const [, id, how, argument, note, closed] = match;
  if (!HOWS.has(how as How)) {
    throw new Error(
      `${file}:${first + 1}: unknown snippet kind "${how}"; see scripts/readme-snippets.ts`,
    );
  }
  if (Boolean(closed) !== (first === fence - 1)) throw missing;
  return {
    id: id!,
    how: how as How,
    argument,
    note,
    prelude: closed ? "" : lines.slice(first + 1, fence - 1).join("\n") + "\n",
  };
}

/** The README's snippets. */
export function readmeSnippets(path: string): Snippet[] {
  return readSnippets(fs.readFileSync(path, "utf8"), path);
}

/** The programs: each id's parts joined in order, with the line of its first part. */
export function programs(snippets: Snippet[]): { id: string; code: string; line: number }[] {
  const byId = new Map<string, { id: string; code: string; line: number }>();
  for (const snippet of snippets.filter((s) => s.how === "program")) {
    const program = byId.get(snippet.id);
    if (program) program.code += `\n${snippet.code}`;
    else byId.set(snippet.id, { id: snippet.id, code: snippet.code, line: snippet.line });
  }
  return [...byId.values()];
}
