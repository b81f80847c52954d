/**
 * The two sides of the lab benchmark and what each phase runs:
 *
 * | phase    | virtwire (`pulumi` on examples/lab)   | Terraform (examples/lab/terraform)             |
 * |----------|----------------------------------------|------------------------------------------------|
 * | create   | `pulumi up --yes` (preview, then up)   | `terraform apply -auto-approve` (plan, apply)  |
 * | nochange | `pulumi preview --expect-no-changes`   | `terraform plan -detailed-exitcode`            |
 * | refresh  | `pulumi refresh --yes`                 | `terraform apply -refresh-only -auto-approve`  |
 * | destroy  | `pulumi destroy --yes`                 | `terraform destroy -auto-approve`              |
 *
 * Each side's defaults otherwise (Pulumi previews before it acts, as Terraform plans); the
 * variants of bench/lab/compare.ts change how the program runs and add `--skip-preview`. Set-up
 * (stack init and config, `terraform init` from the private mirror) is not timed. Both reach the
 * daemon through the relay (`socket=` in the URI), so both are seen the same way.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export type Phase = "create" | "nochange" | "refresh" | "destroy";
export const PHASES: Phase[] = ["create", "nochange", "refresh", "destroy"];

/** What one round of one tool is given. */
export interface RunSpec {
  /** `vwtest-bench-<hex>-r<round>-<tool>`: in every name and mark of what the run makes. */
  marker: string;
  subnet: string;
  poolPath: string;
  uri: string;
  vms: number;
  password: string;
  guest: { kernel: string; initrd: string; cmdline: string; image: string };
}

export interface Command {
  argv: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Exit codes that mean success (terraform plan -detailed-exitcode: 0 only, 2 = changes). */
  ok: number[];
}

export interface Tool {
  readonly name: string;
  /** Node processes worth tracing (bench/lab/trace-preload.ts). */
  readonly traced: boolean;
  prepare(spec: RunSpec): Promise<void>;
  command(phase: Phase): Command;
  /** Untimed: the tool's own destroy after a failure (best effort), then its files. */
  cleanup(destroyed: boolean): Promise<void>;
}

/** Runs `argv` in `cwd`, its output kept for the error that names the command if it fails. */
export async function quiet(
  argv: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeout = 600_000,
) {
  try {
    return await run(argv[0]!, argv.slice(1), { cwd, env, timeout, maxBuffer: 64 << 20 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${argv.join(" ")} failed:\n${stdout ?? ""}\n${stderr ?? String(error)}`);
  }
}

/** examples/lab through the Pulumi CLI, one stack per run in a file backend in `projectDir`. */
export class PulumiLab implements Tool {
  readonly traced = true;
  private stack = "";

  constructor(
    readonly name: string,
    private readonly projectDir: string,
    private readonly env: NodeJS.ProcessEnv,
    /** `--skip-preview` on up, refresh and destroy: each acts without previewing first. */
    private readonly skipPreview = false,
    /** More stack config, e.g. `virtwire:plugin`. */
    private readonly config: Record<string, string> = {},
  ) {}

  async prepare(spec: RunSpec): Promise<void> {
    this.stack = spec.marker;
    await this.pulumi("stack", "init", this.stack);
    const settings: Record<string, string> = {
      "virtwire:uri": spec.uri,
      "lab:image": spec.guest.image,
      "lab:domainType": "qemu",
      "lab:kernel": spec.guest.kernel,
      "lab:initrd": spec.guest.initrd,
      "lab:cmdline": spec.guest.cmdline,
      "lab:memory": "128MiB",
      "lab:vms": String(spec.vms),
      "lab:subnet": spec.subnet,
      "lab:poolPath": spec.poolPath,
      "lab:addressTimeout": "120",
      ...this.config,
    };
    await this.pulumi(
      "config",
      "set-all",
      ...Object.entries(settings).flatMap(([key, value]) => ["--plaintext", `${key}=${value}`]),
      "--secret",
      `lab:password=${spec.password}`,
    );
  }

  command(phase: Phase): Command {
    const args = {
      create: ["up", "--yes"],
      nochange: ["preview", "--expect-no-changes"],
      refresh: ["refresh", "--yes"],
      destroy: ["destroy", "--yes"],
    }[phase];
    if (this.skipPreview && phase !== "nochange") args.push("--skip-preview");
    return {
      argv: ["pulumi", "--non-interactive", ...args, "--stack", this.stack],
      cwd: this.projectDir,
      env: this.env,
      ok: [0],
    };
  }

  async cleanup(destroyed: boolean): Promise<void> {
    if (!this.stack) return;
    if (!destroyed) {
      await this.pulumi("destroy", "--yes", "--skip-preview").catch(() => undefined);
    }
    await this.pulumi("stack", "rm", "--yes", "--force", this.stack).catch(() => undefined);
    this.stack = "";
  }

  private pulumi(...args: string[]) {
    const stack = args[0] === "stack" ? [] : ["--stack", this.stack];
    return quiet(["pulumi", "--non-interactive", ...args, ...stack], this.projectDir, this.env);
  }
}

/** examples/lab/terraform with terraform-provider-libvirt from a private filesystem mirror. */
export class TerraformLab implements Tool {
  readonly traced = false;
  private dir = "";
  private env: NodeJS.ProcessEnv = {};

  constructor(
    readonly name: string,
    private readonly terraform: string,
    /** A TF_CLI_CONFIG_FILE whose filesystem_mirror holds the provider (nothing else allowed). */
    private readonly cliConfig: string,
    private readonly hcl: string,
    private readonly workRoot: string,
  ) {}

  async prepare(spec: RunSpec): Promise<void> {
    this.dir = path.join(this.workRoot, spec.marker);
    fs.mkdirSync(this.dir, { recursive: true });
    fs.copyFileSync(this.hcl, path.join(this.dir, "main.tf"));
    const vars = {
      uri: spec.uri,
      prefix: spec.marker,
      vms: spec.vms,
      subnet: spec.subnet,
      memory_mib: 128,
      domain_type: "qemu",
      pool_path: spec.poolPath,
      image: spec.guest.image,
      kernel: spec.guest.kernel,
      initrd: spec.guest.initrd,
      cmdline: spec.guest.cmdline.split(/\s+/).map((arg) => {
        const [key, ...value] = arg.split("=");
        return value.length ? { [key!]: value.join("=") } : { _: arg };
      }),
    };
    fs.writeFileSync(path.join(this.dir, "terraform.tfvars.json"), JSON.stringify(vars, null, 2));
    this.env = {
      ...process.env,
      TF_CLI_CONFIG_FILE: this.cliConfig,
      TF_IN_AUTOMATION: "1",
      TF_INPUT: "0",
      CHECKPOINT_DISABLE: "1",
      TF_VAR_password: spec.password, // as sensitive as lab:password; never printed
    };
    await quiet([this.terraform, "init", "-input=false", "-no-color"], this.dir, this.env);
  }

  command(phase: Phase): Command {
    const args = {
      create: ["apply", "-auto-approve"],
      nochange: ["plan", "-detailed-exitcode"],
      refresh: ["apply", "-refresh-only", "-auto-approve"],
      destroy: ["destroy", "-auto-approve"],
    }[phase];
    return {
      argv: [this.terraform, ...args, "-input=false", "-no-color"],
      cwd: this.dir,
      env: this.env,
      ok: [0],
    };
  }

  async cleanup(destroyed: boolean): Promise<void> {
    if (!this.dir) return;
    if (!destroyed) {
      // No refresh (it may hang reading a seed back) and no lock (a killed run may hold it).
      await quiet(
        [
          this.terraform,
          "destroy",
          "-auto-approve",
          "-refresh=false",
          "-lock=false",
          "-input=false",
          "-no-color",
        ],
        this.dir,
        this.env,
        180_000,
      ).catch(() => undefined);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = "";
  }
}
