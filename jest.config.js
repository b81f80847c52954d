// Two projects: `unit` (pure code, beside the sources) and `integration` (a real libvirtd from
// scripts/testbed.sh). `bash scripts/test.sh` runs both; `npx jest --selectProjects unit` runs one.
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
  ],
};
