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
  newResource: (args) => { if (args.name === "refused") throw new Error("the monitor refuses"); registered.push({ type: args.type, name: args.name, id: args.id, inputs: args.inputs }); return { id: args.name + "-id", state: args.inputs }; },
  call: () => ({}),
}, "project", "stack", false);
const virtwire = require("virtwire");
new virtwire.Pool("images", { type: "dir", targetPath: "/srv/images" });
new virtwire.CloudInitDisk("seed", { pool: "images", userData: "#cloud-config\\npassword: hunter2-in-userdata\\n" });
new virtwire.Pool("typo", { type: "dir", targetpath: "/srv/typo", uuid: "given", memry: undefined });
const got = virtwire.Pool.get("got", "lab-1907eab", { host: "kvm1", targetPath: "/ignored", uuid: "x" });
virtwire.Volume.get("gotvol", "disk.raw", { pool: "images" });
// A second copy of the package, as two installs in one program would have: instanceof fails there.
const copy = require(process.argv[2]);
const isInstance = {
  poolIsPool: virtwire.Pool.isInstance(got),
  poolIsNetwork: virtwire.Network.isInstance(got),
  copyPoolIsPool: copy.Pool.isInstance(got),
  copyPoolInstanceof: got instanceof copy.Pool,
  plainObject: virtwire.Pool.isInstance({ targetPath: "/srv" }),
  nothing: virtwire.Pool.isInstance(undefined),
  outputs: ["name", "targetPath", "uuid", "capacity"].map((key) => pulumi.Output.isInstance(got[key])),
};
// Stack traces while a resource registers: a transformation runs inside its super call. The
// formatter counts what it formats, as ts-node's source-map-support would map it.
const stackTraces = {};
let formatted = 0;
const format = (error, callSites) => { formatted++; return String(error) + callSites.map((c) => "\\n    at " + c).join(""); };
Error.prepareStackTrace = format;
const inRegistration = (key) => ({ transformations: [() => {
  const before = formatted;
  const readThen = new Error("read at once").stack;
  stackTraces[key] = {
    error: new Error("made while registering"),
    readThen,
    formattedThen: formatted - before,
    sourcePosition: (pulumi.Resource.callsites?.() ?? []).filter((c) => c.file).map((c) => c.file.split("/").pop()),
  };
  return undefined;
}] });
function constructTraced() { return new virtwire.Volume("traced", { pool: "images", capacity: "1MiB" }, inRegistration("registering")); }
constructTraced();
stackTraces.registering.readLater = stackTraces.registering.error.stack;
stackTraces.formatterAfter = Error.prepareStackTrace === format;
// Pulumi reads a trace for every promise it makes while a resource registers: all but the one
// for the source position skip the formatter.
const formattedBefore = formatted;
new virtwire.Volume("counted", { pool: "images", capacity: "1MiB" });
stackTraces.formattedWhileRegistering = formatted - formattedBefore;
// An error thrown while registering (Pulumi refuses an empty name), read where it is caught.
function constructUnnamed() { return new virtwire.Pool("", { type: "dir", targetPath: "/srv/x" }); }
try { constructUnnamed(); } catch (error) { stackTraces.thrown = error.stack; }
stackTraces.formatterAfterThrow = Error.prepareStackTrace === format;
// A formatter a transformation installs is the program's to keep.
const own = () => "own";
new virtwire.Volume("formatter", { pool: "images", capacity: "1MiB" }, { transformations: [() => { Error.prepareStackTrace = own; return undefined; }] });
stackTraces.ownFormatterKept = Error.prepareStackTrace === own;
Error.prepareStackTrace = format;
process.env.PULUMI_DEBUG_PROMISE_LEAKS = "true";
new virtwire.Volume("debugged", { pool: "images", capacity: "1MiB" }, inRegistration("debugging"));
delete process.env.PULUMI_DEBUG_PROMISE_LEAKS;
// @pulumi/pulumi before 3.192 has no Resource.callsites, and takes a resource's source position
// from a stack trace of the current limit.
const { callsites, stackTrace } = pulumi.Resource;
Object.assign(pulumi.Resource, { callsites: undefined, stackTrace: () => [] });
new virtwire.Volume("older", { pool: "images", capacity: "1MiB" }, inRegistration("olderPulumi"));
Object.assign(pulumi.Resource, { callsites, stackTrace });
// A registration the monitor refuses rejects with the error Pulumi made while it registered.
const unhandled = [];
process.on("unhandledRejection", (error) => { unhandled.push(String(error.stack)); });
function constructRefused() { return new virtwire.Volume("refused", { pool: "images", capacity: "1MiB" }); }
constructRefused().urn.apply(() => undefined);
// A parent that is no resource: Pulumi's own refusal, not a TypeError from the SDK.
let badParent;
try { new virtwire.Pool("orphan", { type: "dir", targetPath: "/srv/o" }, { parent: {} }); } catch (error) { badParent = String(error); }
// What @pulumi/pulumi's closure serializer makes of the provider module, which the SDK writes out.
const provider = require("virtwire/provider");
pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true }).then(({ text: serialized }) =>
  setTimeout(() => { console.log(JSON.stringify({ registered, isInstance, serialized, stackTraces, badParent, unhandled })); }, 500));
`;

interface Registration {
  type: string;
  name: string;
  id?: string;
  inputs: Record<string, unknown>;
}

let registrations: Registration[];
let isInstance: Record<string, unknown>;
let serialized: string;
let stackTraces: Record<string, unknown>;
let badParent: string;
let unhandled: string[];

beforeAll(async () => {
  const program = await prepareProgramDir([await packVirtwire()]);
  const script = path.join(program.dir, "register-resources.js");
  fs.writeFileSync(script, PROGRAM);
  // The same package under another directory: a second module instance with its own classes.
  const copy = path.join(program.dir, "virtwire-copy");
  fs.cpSync(path.join(program.dir, "node_modules", "virtwire"), copy, { recursive: true });
  const { stdout } = await run(process.execPath, [script, copy], { cwd: program.dir });
  ({
    registered: registrations,
    isInstance,
    serialized,
    stackTraces,
    badParent,
    unhandled,
  } = JSON.parse(stdout.trim().split("\n").pop()!));
}, 120_000);

describe("a virtwire resource constructed in a program", () => {
  it("registers the dynamic type token virtwire:<Kind>", () => {
    const types = Object.fromEntries(registrations.map((r) => [r.name, r.type]));
    expect(types).toEqual({
      images: "pulumi-nodejs:dynamic/virtwire:Pool",
      seed: "pulumi-nodejs:dynamic/virtwire:CloudInitDisk",
      typo: "pulumi-nodejs:dynamic/virtwire:Pool",
      got: "pulumi-nodejs:dynamic/virtwire:Pool",
      gotvol: "pulumi-nodejs:dynamic/virtwire:Volume",
      traced: "pulumi-nodejs:dynamic/virtwire:Volume",
      debugged: "pulumi-nodejs:dynamic/virtwire:Volume",
      older: "pulumi-nodejs:dynamic/virtwire:Volume",
      counted: "pulumi-nodejs:dynamic/virtwire:Volume",
      formatter: "pulumi-nodejs:dynamic/virtwire:Volume",
    });
  });

  it("stores the provider as a require stub under 1 KB with no absolute path", () => {
    for (const { inputs } of registrations) {
      const text = inputs.__provider as string;
      expect(text.length).toBeLessThan(1024);
      expect(text).toContain('require("virtwire/provider")');
      expect(text).not.toMatch(/\/(tmp|work|root|home|usr)\//);
    }
  });

  it("stores the provider exactly as Pulumi's closure serializer would, so older stacks see no change", () => {
    for (const { inputs } of registrations) expect(inputs.__provider).toBe(serialized);
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

  it("formats a stack trace read while it registers as its first line only, as Pulumi reads one for every promise", () => {
    expect(stackTraces.registering).toMatchObject({
      readThen: "Error: read at once",
      formattedThen: 0,
    });
    expect(stackTraces.formatterAfter).toBe(true);
  });

  it("formats only the trace Pulumi takes for the source position of a resource it registers", () => {
    expect(stackTraces.formattedWhileRegistering).toBe(1);
  });

  it("still formats the trace Pulumi takes for the resource's source position", () => {
    const { sourcePosition } = stackTraces.registering as { sourcePosition: string[] };
    expect(sourcePosition).toContain("register-resources.js");
  });

  it("leaves an error made while it registers its whole stack, formatted when read later", () => {
    const { readLater } = stackTraces.registering as { readLater: string };
    expect(readLater).toMatch(/^Error: made while registering\n\s+at transformations /);
    expect(readLater).toMatch(/\n\s+at constructTraced \(.*register-resources\.js:/);
  });

  it("leaves an error thrown while it registers the stack of the program that constructed it", () => {
    expect(stackTraces.thrown).toMatch(/^\w*Error: Missing resource name argument/);
    expect(stackTraces.thrown).toMatch(/\n\s+at constructUnnamed \(.*register-resources\.js:/);
    expect(stackTraces.formatterAfterThrow).toBe(true);
  });

  it("keeps a formatter that a transformation installs while it registers", () => {
    expect(stackTraces.ownFormatterKept).toBe(true);
  });

  it("gives a refused registration's error the stack of the program that constructed it", () => {
    // Each of its outputs rejects with it.
    const refused = unhandled.filter((stack) => stack.includes("new resource refused"));
    expect(refused.length).toBeGreaterThan(0);
    for (const stack of refused) {
      expect(stack).toMatch(
        /^Error: failed to register new resource refused .*the monitor refuses/,
      );
      expect(stack).toMatch(/\n\s+at constructRefused \(.*register-resources\.js:/);
    }
  });

  it("formats every trace whole while Pulumi's promise-leak debugging is on", () => {
    expect(stackTraces.debugging).toMatchObject({
      readThen: expect.stringMatching(/^Error: read at once\n\s+at /),
    });
  });

  it("formats every trace whole under a @pulumi/pulumi that takes source positions from them", () => {
    expect(stackTraces.olderPulumi).toMatchObject({
      readThen: expect.stringMatching(/^Error: read at once\n\s+at /),
    });
  });
});

describe("Kind.get and Kind.isInstance, as generated Pulumi SDKs have them", () => {
  it("reads by the id given, sending only what qualifies the lookup from the state", () => {
    const got = registrations.find((r) => r.name === "got")!;
    expect(got.id).toBe("lab-1907eab");
    const sent = Object.entries(got.inputs).filter(([key]) => !key.startsWith("__"));
    expect(Object.fromEntries(sent)).toEqual({ host: "kvm1" });
    expect(got.inputs).toMatchObject({ __kind: "Pool", __logicalName: "got" });
    const volume = registrations.find((r) => r.name === "gotvol")!;
    expect(volume.inputs).toMatchObject({ __kind: "Volume", pool: "images" });
  });

  it("gives the resource every output property", () => {
    expect(isInstance.outputs).toEqual([true, true, true, true]);
  });

  it("leaves a parent that is no resource to Pulumi to refuse", () => {
    expect(badParent).toBe("Error: Resource parent is not a valid Resource: [object Object]");
    // Nor does the SDK leave a promise behind that rejects unhandled (with a TypeError).
    expect(unhandled.filter((stack) => !stack.includes("new resource refused"))).toEqual([]);
  });

  it("tells a resource of the kind, also from another copy of the package, and nothing else", () => {
    expect(isInstance).toMatchObject({
      poolIsPool: true,
      poolIsNetwork: false,
      copyPoolIsPool: true,
      copyPoolInstanceof: false,
      plainObject: false,
      nothing: false,
    });
  });
});
