// The generated resource classes as a user's program runs them: virtwire installed from its packed
// tarball, resources constructed under @pulumi/pulumi's mocks, and what they register inspected.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { packVirtwire, prepareProgramDir } from "../support/program-dir";

const run = promisify(execFile);

// Runs inside the program directory, so `require("virtwire")` is the installed package.
const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const registered = [];
pulumi.runtime.setMocks({
  newResource: (args) => { registered.push({ type: args.type, name: args.name, inputs: args.inputs }); return { id: args.name + "-id", state: args.inputs }; },
  call: () => ({}),
}, "project", "stack", false);
const virtwire = require("virtwire");
new virtwire.Pool("images", { type: "dir", targetPath: "/srv/images" });
new virtwire.CloudInitDisk("seed", { pool: "images", userData: "#cloud-config\\npassword: hunter2-in-userdata\\n" });
new virtwire.Pool("typo", { type: "dir", targetpath: "/srv/typo", uuid: "given", memry: undefined });
setTimeout(() => { console.log(JSON.stringify(registered)); }, 500);
`;

interface Registration {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

let registrations: Registration[];

beforeAll(async () => {
  const program = await prepareProgramDir([await packVirtwire()]);
  const script = path.join(program.dir, "register-resources.js");
  fs.writeFileSync(script, PROGRAM);
  const { stdout } = await run(process.execPath, [script], { cwd: program.dir });
  registrations = JSON.parse(stdout.trim().split("\n").pop()!);
}, 120_000);

describe("a virtwire resource constructed in a program", () => {
  it("registers the dynamic type token virtwire:<Kind>", () => {
    expect(registrations.map((r) => r.type)).toEqual([
      "pulumi-nodejs:dynamic/virtwire:Pool",
      "pulumi-nodejs:dynamic/virtwire:CloudInitDisk",
      "pulumi-nodejs:dynamic/virtwire:Pool",
    ]);
  });

  it("stores the provider as a require stub under 1 KB with no absolute path", () => {
    for (const { inputs } of registrations) {
      const text = inputs.__provider as string;
      expect(text.length).toBeLessThan(1024);
      expect(text).toContain('require("virtwire/provider")');
      expect(text).not.toMatch(/\/(tmp|work|root|home|usr)\//);
    }
  });

  it("registers secret inputs as secrets, so the state's inputs hold them encrypted", () => {
    const seed = registrations.find((r) => r.name === "seed")!;
    expect(JSON.stringify(seed.inputs.userData)).toContain("1b47061264138c4ac30d75fd1eb44270");
  });

  it("passes arguments the schema does not know on to check, which refuses them by name", () => {
    const typo = registrations.find((r) => r.name === "typo")!;
    expect(typo.inputs).toMatchObject({ targetpath: "/srv/typo", uuid: "given" });
    expect(typo.inputs).not.toHaveProperty("memry");
  });
});
