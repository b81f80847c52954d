// Three projects: `unit` (pure code, beside the sources), `integration` (a real libvirtd from
// scripts/testbed.sh) and `e2e` (the examples through the Pulumi CLI against that daemon).
// `bash scripts/test.sh` runs all; `npx jest --selectProjects unit` runs one.
const transform = {
  "^.+\\.ts$": ["ts-jest", { diagnostics: false }],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: "unit",
      testEnvironment: "node",
      transform,
      testMatch: ["<rootDir>/{rpc,provider,resources,sdk,scripts}/**/*.test.ts"],
    },
    {
      displayName: "integration",
      testEnvironment: "node",
      transform,
      testMatch: ["<rootDir>/test/integration/**/*.test.ts"],
      // testTimeout is not a per-project option in jest; the setup file sets it for this project.
      setupFilesAfterEnv: ["<rootDir>/test/integration/setup.ts"],
    },
    {
      // The examples through the real Pulumi CLI (scripts/pulumi-cli.sh); long timeouts.
      displayName: "e2e",
      testEnvironment: "node",
      transform,
      testMatch: ["<rootDir>/test/e2e/**/*.test.ts"],
      setupFilesAfterEnv: ["<rootDir>/test/e2e/setup.ts"],
    },
  ],
};
