// End-to-end tests run the Pulumi CLI, which boots real (emulated) guests: each step may take minutes.
jest.setTimeout(600_000);
