/**
 * The ext transport: libvirt runs `command=` and speaks RPC over its stdin/stdout. Here the
 * command is a two-line script that relays to the test bed daemon's unix socket with nc.
 */
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConnectionClosedError, Libvirt, UriError } from "../../rpc";
import { scratchDir } from "../support/ssh";
import { TEST_SOCKET } from "../support/testbed";
import { connectAndExercise } from "../support/transport-checks";

describe("the ext transport", () => {
  let scratch: ReturnType<typeof scratchDir>;
  beforeAll(() => {
    scratch = scratchDir("ext");
  });
  afterAll(() => scratch?.cleanup());

  const script = (name: string, body: string) => {
    const file = join(scratch.dir, name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
    return file;
  };

  it("carries the representative calls through the command's stdin/stdout", async () => {
    const relay = script("relay", `exec nc -U '${TEST_SOCKET}'`);
    await connectAndExercise(`qemu+ext:///system?command=${relay}`);
  });

  it("reports the command's failure with its stderr", async () => {
    const broken = script("broken", "echo 'relay: no route to the daemon' >&2; exit 3");
    const error = await Libvirt.connect(`qemu+ext:///system?command=${broken}`).catch(
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect((error as Error).message).toMatch(
      /the ext transport's command .*broken exited with status 3: relay: no route to the daemon/,
    );
  });

  it("says when the command cannot be run", async () => {
    const error = await Libvirt.connect(
      `qemu+ext:///system?command=${join(scratch.dir, "missing")}`,
    ).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect((error as Error).message).toMatch(/cannot run the ext transport's command .*ENOENT/);
  });

  it("needs command=", async () => {
    await expect(Libvirt.connect("qemu+ext:///system")).rejects.toThrow(UriError);
  });
});
