/**
 * GenerateProgram: PCL in, program files out, for `pulumi import` (and `pulumi convert`). The code
 * generator is Pulumi's own (pkg/v3/codegen/nodejs, what upstream's Node.js host runs), in the Go
 * program `programgen` (../programgen) that scripts/pulumi-cli.sh builds at the CLI's version and
 * installs beside this file. The request goes to its stdin and the response comes from its
 * stdout, both as the protobuf-encoded pulumirpc messages; the request's loader_target (the
 * engine's schema loader) is dialled by programgen itself.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn } from "node:child_process";
import * as language from "@pulumi/pulumi/proto/language_pb";

/** Where scripts/pulumi-cli.sh installs the generator: beside the compiled host. */
export const PROGRAMGEN = path.join(__dirname, "programgen");

/** Runs `file` with the encoded request on stdin; its stdout is the encoded response. */
export function runGenerator(
  file: string,
  args: readonly string[],
  request: Uint8Array,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (err) => reject(new Error(`${file} could not start: ${err.message}`)));
    child.on("close", (code, signal) => {
      if (code === 0) return resolve(Buffer.concat(stdout));
      const said = Buffer.concat(stderr).toString().trim();
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      reject(new Error(`generating the program failed: ${file} ${how}${said ? `: ${said}` : ""}`));
    });
    // A generator that exits before reading everything closes the pipe; its exit status says why.
    child.stdin.on("error", () => undefined);
    child.stdin.end(request);
  });
}

/** The GenerateProgram call, answered by the generator at `generator`. */
export async function generateProgram(
  request: language.GenerateProgramRequest,
  generator = PROGRAMGEN,
): Promise<language.GenerateProgramResponse> {
  if (!fs.existsSync(generator)) {
    throw new Error(
      `this Node.js language host has no program generator (${generator} is missing); ` +
        "run scripts/pulumi-cli.sh again to install it",
    );
  }
  const response = await runGenerator(generator, [], request.serializeBinary());
  return language.GenerateProgramResponse.deserializeBinary(response);
}
