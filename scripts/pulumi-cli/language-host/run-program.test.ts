import {
  EXIT_ERROR_ALREADY_REPORTED,
  outcomeOf,
  programCommand,
  type ProgramRun,
} from "./run-program";

const program: ProgramRun = {
  project: "lab",
  stack: "dev",
  organization: "organization",
  pwd: "/srv/lab",
  rootDirectory: "/srv/lab",
  entryPoint: ".",
  args: [],
  config: { "lab:vms": "3", "virtwire:password": "hunter2" },
  configSecretKeys: ["virtwire:password"],
  dryRun: false,
  parallel: 16,
  monitorAddress: "127.0.0.1:4001",
  options: {},
};

describe("programCommand", () => {
  it("runs the SDK's runner with the engine's flags before the entry point", () => {
    const { args } = programCommand(program, "127.0.0.1:4000", "/srv/lab/run.js");
    expect(args).toEqual([
      "/srv/lab/run.js",
      "--monitor=127.0.0.1:4001",
      "--engine=127.0.0.1:4000",
      "--project=lab",
      "--stack=dev",
      "--organization=organization",
      "--root-directory=/srv/lab",
      "--pwd=/srv/lab",
      "--parallel=16",
      ".",
    ]);
  });

  it("adds --dry-run for a preview and passes the program's own arguments last", () => {
    const { args } = programCommand({ ...program, dryRun: true, args: ["a", "--b"] }, "e", "run");
    expect(args.slice(-4)).toEqual(["--dry-run", ".", "a", "--b"]);
  });

  it("passes config and the secret keys as JSON in the environment", () => {
    const { env } = programCommand(program, "e", "run");
    expect(JSON.parse(env.PULUMI_CONFIG!)).toEqual(program.config);
    expect(JSON.parse(env.PULUMI_CONFIG_SECRET_KEYS!)).toEqual(["virtwire:password"]);
  });

  it("runs TypeScript unless the project turns it off, with its tsconfig and node arguments", () => {
    expect(programCommand(program, "e", "run").env.PULUMI_NODEJS_TYPESCRIPT).toBe("true");
    const options = { typescript: false, tsconfig: "tsconfig.pulumi.json", nodeargs: " --a  --b " };
    const { args, env } = programCommand({ ...program, options }, "e", "run");
    expect(env.PULUMI_NODEJS_TYPESCRIPT).toBe("false");
    expect(env.PULUMI_NODEJS_TSCONFIG_PATH).toBe("tsconfig.pulumi.json");
    expect(args.slice(0, 3)).toEqual(["--a", "--b", "run"]);
  });
});

describe("outcomeOf", () => {
  it("is empty on success, a bail when the runner already reported the error, else the exit", () => {
    expect(outcomeOf(0, null)).toEqual({});
    expect(outcomeOf(EXIT_ERROR_ALREADY_REPORTED, null)).toEqual({ bail: true });
    expect(outcomeOf(1, null)).toEqual({ error: "Program exited with non-zero exit code: 1" });
    expect(outcomeOf(null, "SIGKILL")).toEqual({ error: "Program exited due to signal SIGKILL" });
  });
});
