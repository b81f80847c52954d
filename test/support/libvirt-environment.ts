/**
 * The test environment of the integration projects (jest.config.js): Node's, pointed at one daemon
 * of the test bed, with that daemon's libvirt in every test's name.
 *
 * testEnvironmentOptions:
 *   libvirt  the label put before each top-level describe block and test, e.g. "libvirt 11", so
 *            that reports tell the runs of the same file on the two daemons apart
 *   env      variables of this project's tests, each taken from another variable of the run's
 *            environment, e.g. { VIRTWIRE_TEST_URI: "VIRTWIRE_TEST_URI_11" }; a missing source
 *            fails every test file of the project with the fix
 *   testbed  which daemon of scripts/testbed.sh this is ("9" or "11"): asked before each test
 *            file, and revived when it has stopped answering (daemon-watch.ts)
 * Only the tests' own `process.env` changes (jest gives each test file a copy).
 */
import type { EnvironmentContext, JestEnvironmentConfig } from "@jest/environment";
import type { Circus } from "@jest/types";
import NodeEnvironment from "jest-environment-node";
import { keepDaemonAnswering } from "./daemon-watch";

interface Options {
  libvirt?: string;
  env?: Record<string, string>;
  testbed?: string;
}

export default class LibvirtEnvironment extends NodeEnvironment {
  private readonly label: string | undefined;
  private readonly testbed: string | undefined;
  private readonly testPath: string;
  private readonly rootDir: string;

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    const options = config.projectConfig.testEnvironmentOptions as Options;
    this.label = options.libvirt;
    this.testbed = options.testbed;
    this.testPath = context.testPath;
    this.rootDir = config.globalConfig.rootDir;
    const env = this.global.process.env;
    for (const [name, source] of Object.entries(options.env ?? {})) {
      const value = process.env[source];
      if (!value) {
        throw new Error(
          `${source} is not set, so the ${options.libvirt ?? "integration"} tests have no daemon: ` +
            `run \`bash scripts/testbed.sh up\` and \`eval "$(bash scripts/testbed.sh env)"\``,
        );
      }
      env[name] = value;
    }
  }

  override async setup(): Promise<void> {
    await super.setup();
    const uri = this.global.process.env.VIRTWIRE_TEST_URI;
    if (this.testbed && uri) {
      const watched = { label: this.label ?? "the daemon", daemon: this.testbed, uri };
      await keepDaemonAnswering(watched, this.testPath, this.rootDir);
    }
  }

  async handleTestEvent(event: Circus.AsyncEvent, state: Circus.State): Promise<void> {
    // Names are read when results are made, after run_start: renaming the top level here
    // reaches every test's full name and ancestor titles.
    if (event.name !== "run_start" || !this.label) return;
    for (const child of state.rootDescribeBlock.children)
      child.name = `[${this.label}] ${child.name}`;
  }
}
