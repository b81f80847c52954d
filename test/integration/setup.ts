// Integration tests talk to a real daemon and boot real (emulated) guests: allow them time.
jest.setTimeout(120_000);
