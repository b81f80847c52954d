// Four projects: `unit` (pure code, beside the sources), `integration` and `integration-11` (the
// same tests against the test bed's two daemons, scripts/testbed.sh: the host's libvirt 9.0 and
// libvirt 11 from a Debian 13 root) and `e2e` (the examples through the Pulumi CLI against the 9.0
// daemon). `bash scripts/test.sh` runs all; `npx jest --selectProjects unit` runs one.
const transform = {
  "^.+\\.ts$": ["ts-jest", { diagnostics: false }],
};

// The integration tests that run once, in `integration` (libvirt 9.0), and not in
// `integration-11`: the TCP, TLS and SSH transports need the listeners and sshd of the 9.0 daemon
// (the libvirt 11 daemon has its unix socket only), and the rest talk to daemons of their own
// (private SASL and session daemons from the host's 9.0 install) or to none at all.
const ONLY_ON_9 = [
  // the 9.0 daemon's TCP/TLS listeners and sshd
  "auth-multi-host",
  "auth-no-leak",
  "auth-ssh-provider",
  "transports-ssh",
  "transports-ssh-host-keys",
  "transports-tcp-tls",
  // private daemons only (they stop, kill or crash them)
  "auth-sasl",
  "keepalive",
  "deadlines",
  "leftovers-faults",
  "volume-stream-overrun",
  // no libvirt daemon
  "harness",
  "harness-engine",
  "sdk-registration",
].map((name) => `/test/integration/${name}\\.test\\.ts$`);

const integration = {
  testEnvironment: "<rootDir>/test/support/libvirt-environment.ts",
  transform,
  testMatch: ["<rootDir>/test/integration/**/*.test.ts"],
  // testTimeout is not a per-project option in jest; the setup file sets it for this project.
  setupFilesAfterEnv: ["<rootDir>/test/integration/setup.ts"],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: "unit",
      testEnvironment: "node",
      transform,
      testMatch: ["<rootDir>/{rpc,transfer,provider,resources,sdk,scripts}/**/*.test.ts"],
    },
    {
      ...integration,
      displayName: "integration",
      testEnvironmentOptions: { libvirt: "libvirt 9", testbed: "9" },
    },
    {
      ...integration,
      displayName: "integration-11",
      testPathIgnorePatterns: ["/node_modules/", ...ONLY_ON_9],
      // scripts/testbed.sh env exports the libvirt 11 daemon's variables with the suffix _11.
      testEnvironmentOptions: {
        libvirt: "libvirt 11",
        testbed: "11",
        env: {
          VIRTWIRE_TEST_URI: "VIRTWIRE_TEST_URI_11",
          VIRTWIRE_DAEMON_NETNS: "VIRTWIRE_DAEMON_NETNS_11",
          VIRTWIRE_DAEMON_ROOT: "VIRTWIRE_DAEMON_ROOT_11",
          // Its own copy of the test guest (testbed/libvirt11.sh says why).
          VIRTWIRE_GUEST_KERNEL: "VIRTWIRE_GUEST_KERNEL_11",
          VIRTWIRE_GUEST_INITRD: "VIRTWIRE_GUEST_INITRD_11",
        },
      },
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
