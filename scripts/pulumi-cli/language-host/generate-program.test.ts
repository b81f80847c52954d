import * as language from "@pulumi/pulumi/proto/language_pb";
import { generateProgram, runGenerator } from "./generate-program";

// `node -e` stands in for programgen, whose real runs are in test/e2e/plugin-import.test.ts.
const node = (script: string) => [process.execPath, ["-e", script]] as const;

describe("the language host's GenerateProgram", () => {
  it("sends the request to the generator's stdin and answers with its stdout", async () => {
    const request = new language.GenerateProgramRequest()
      .setLoaderTarget("127.0.0.1:4000")
      .setStrict(false);
    request.getSourceMap().set("main.pp", 'resource vm "virtwire:index:Domain" {}');
    const echoed = await runGenerator(
      ...node("process.stdin.pipe(process.stdout)"),
      request.serializeBinary(),
    );
    const received = language.GenerateProgramRequest.deserializeBinary(echoed);
    expect(received.getLoaderTarget()).toBe("127.0.0.1:4000");
    expect(received.getSourceMap().get("main.pp")).toBe('resource vm "virtwire:index:Domain" {}');
  });

  it("fails with what the generator said and how it exited", async () => {
    const failing = node(
      'process.stderr.write("programgen: no schema for virtwire"); process.exit(1)',
    );
    await expect(runGenerator(...failing, new Uint8Array())).rejects.toThrow(
      /exited with code 1: programgen: no schema for virtwire$/,
    );
  });

  it("says how to install the generator when it is missing", async () => {
    await expect(
      generateProgram(new language.GenerateProgramRequest(), "/nonexistent/programgen"),
    ).rejects.toThrow(/run scripts\/pulumi-cli\.sh again/);
  });
});
