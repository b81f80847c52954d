import * as fs from "node:fs";
import * as path from "node:path";
import { CredentialType } from "../rpc/client/auth/credentials";
import { authConfCredentials } from "../rpc/client/auth/auth-conf";
import { programs, readSnippets, readmeSnippets } from "./readme-snippets";

const ROOT = path.resolve(__dirname, "..");
const snippets = readmeSnippets(path.join(ROOT, "README.md"));

describe("the README's code blocks", () => {
  it("each say what is done with them, in a marker the tests read", () => {
    // readmeSnippets throws on a block without a marker, naming its line.
    expect(snippets.length).toBeGreaterThan(15);
  });

  it.each(snippets.map((s) => [`${s.id} (line ${s.line})`, s] as const))(
    "%s is of a kind its language allows",
    (_, snippet) => {
      const allowed: Record<string, string[]> = {
        ts: ["program", "module", "typecheck"],
        sh: ["config", "test", "manual"],
        ini: ["test"],
        "": ["output"],
      };
      expect(allowed[snippet.language]).toContain(snippet.how);
      if (snippet.how === "typecheck") expect(["program", "module"]).toContain(snippet.argument);
      if (["typecheck", "manual", "output"].includes(snippet.how))
        expect(snippet.note).toBeTruthy();
    },
  );

  it("are run by the test files they name, which look them up by id", () => {
    for (const snippet of snippets.filter((s) => s.how === "test")) {
      const test = path.join(ROOT, snippet.argument!);
      expect(fs.existsSync(test)).toBe(true);
      expect(fs.readFileSync(test, "utf8")).toContain(`"${snippet.id}"`);
    }
  });

  it("give config lines only for programs that are in the README", () => {
    const ids = programs(snippets).map((program) => program.id);
    for (const snippet of snippets.filter((s) => s.how === "config")) {
      expect(ids).toContain(snippet.id);
      for (const line of snippet.code.trim().split("\n")) expect(line).toMatch(/^pulumi config /);
    }
  });

  it("include an auth.conf that gives kvm1.example.com's SASL login as the text around it says", async () => {
    const conf = snippets.find((s) => s.id === "auth-conf")!;
    const source = authConfCredentials("auth.conf", conf.code);
    const answers = await source.collect(
      [
        { type: CredentialType.AUTHNAME, prompt: "user" },
        { type: CredentialType.PASSPHRASE, prompt: "password" },
      ],
      { service: "libvirt", host: "kvm1.example.com" },
    );
    expect(answers).toEqual(["admin", "correct horse battery staple"]);
  });
});

describe("snippet markers", () => {
  it("are required before every code block", () => {
    expect(() => readSnippets("text\n\n```ts\nx\n```\n")).toThrow(
      /^README.md:3: a code block without a "<!-- snippet <id>: <how> -->" line before it/,
    );
  });

  it("may carry declarations for a type-checked snippet", () => {
    const markdown = [
      "<!-- snippet creds: typecheck module — a remote host",
      "declare const caPem: string;",
      "-->",
      "```ts",
      "use(caPem);",
      "```",
    ].join("\n");
    expect(readSnippets(markdown)).toEqual([
      {
        id: "creds",
        how: "typecheck",
        argument: "module",
        note: "a remote host",
        prelude: "declare const caPem: string;\n",
        language: "ts",
        code: "use(caPem);\n",
        line: 4,
      },
    ]);
  });

  it("join the parts of a program in order", () => {
    const part = (code: string) => `<!-- snippet p: program -->\n\`\`\`ts\n${code}\n\`\`\`\n`;
    expect(programs(readSnippets(part("a();") + "text\n" + part("b();")))).toEqual([
      { id: "p", code: "a();\n\nb();\n", line: 2 },
    ]);
  });
});
