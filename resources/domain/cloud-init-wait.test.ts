/**
 * The cloud-init wait against a fake guest: a stand-in for the one Libvirt method the agent uses
 * (QemuDomainAgentCommand, answering from a table of guest files) and for DomainGetState, on a
 * clock that moves only when the wait sleeps. A real guest with cloud-init takes minutes under
 * TCG and cannot be made to block its agent's commands or stop answering on cue.
 */
import { DomainState, ErrorCode, ErrorDomain } from "../../rpc";
import type { RemoteNonnullDomain } from "../../rpc";
import { libvirtError } from "../../test/support/packets";
import { CloudInitHost, CloudInitWaitError, waitForCloudInit } from "./cloud-init-wait";
import { GuestAgent, GuestAgentReplyError } from "./guest-agent";

const dom: RemoteNonnullDomain = { name: "vm", uuid: Buffer.alloc(16), id: 1 };
const FILE_COMMANDS = ["guest-file-open", "guest-file-read", "guest-file-close"];

const agentError = (code: ErrorCode, message: string) =>
  libvirtError({ code, domain: ErrorDomain.QEMU, message });

/** A guest as its agent shows it through libvirt: files, blocked commands, silence. */
class FakeGuest implements CloudInitHost {
  readonly files = new Map<string, string>();
  readonly blocked = new Set<string>();
  /** Thrown for every agent command while set (no agent yet, no channel, …). */
  failure: Error | undefined;
  state = DomainState.RUNNING;
  /** The commands that reached the agent. */
  readonly executed: string[] = [];
  private readonly handles = new Map<number, { data: Buffer; offset: number }>();
  private nextHandle = 1000;

  get openHandles(): number {
    return this.handles.size;
  }

  async QemuDomainAgentCommand(args: { cmd: string; timeout: number }) {
    const { execute, arguments: a = {} } = JSON.parse(args.cmd) as {
      execute: string;
      arguments?: Record<string, unknown>;
    };
    if (this.failure) throw this.failure;
    this.executed.push(execute);
    if (this.blocked.has(execute)) {
      throw agentError(ErrorCode.INTERNAL_ERROR, `The command ${execute} has been disabled`);
    }
    return { result: JSON.stringify({ return: this.run(execute, a) }) };
  }

  async DomainGetState() {
    return { state: this.state, reason: 1 };
  }

  private run(command: string, args: Record<string, unknown>): unknown {
    switch (command) {
      case "guest-info":
        return {
          version: "7.2.0",
          supported_commands: [...FILE_COMMANDS, "guest-ping"].map((name) => ({
            name,
            enabled: !this.blocked.has(name),
            "success-response": true,
          })),
        };
      case "guest-file-open": {
        const content = this.files.get(String(args.path));
        if (content === undefined) {
          throw agentError(
            ErrorCode.INTERNAL_ERROR,
            `unable to execute QEMU agent command 'guest-file-open': failed to open file '${args.path}'`,
          );
        }
        this.handles.set(this.nextHandle, { data: Buffer.from(content), offset: 0 });
        return this.nextHandle++;
      }
      case "guest-file-read": {
        const file = this.handles.get(Number(args.handle))!;
        const chunk = file.data.subarray(file.offset, file.offset + Number(args.count));
        file.offset += chunk.length;
        const eof = file.offset >= file.data.length;
        return { count: chunk.length, "buf-b64": chunk.toString("base64"), eof };
      }
      case "guest-file-close":
        this.handles.delete(Number(args.handle));
        return {};
      default:
        throw agentError(ErrorCode.INTERNAL_ERROR, `The command ${command} has not been found`);
    }
  }
}

const RESULT = "/run/cloud-init/result.json";
const STATUS = "/run/cloud-init/status.json";
const NOCLOUD = "DataSourceNoCloud [seed=/dev/sr0][dsmode=net]";

const result = (errors: string[] = [], datasource: string | null = NOCLOUD) =>
  JSON.stringify({ v1: { datasource, errors } });

const stage = (finished: boolean, errors: string[] = []) => ({
  start: 10,
  finished: finished ? 12 : null,
  errors,
});
const status = (current: string | null, finished: string[], datasource: string | null = NOCLOUD) =>
  JSON.stringify({
    v1: {
      stage: current,
      datasource,
      ...Object.fromEntries(finished.map((name) => [name, stage(true)])),
      ...(current ? { [current]: stage(false) } : {}),
    },
  });

/**
 * A clock that moves only when the wait sleeps; `script` runs at each virtual second given, so the
 * guest can change while the wait polls.
 */
function fakeClock(script: Record<number, () => void> = {}) {
  let now = 0;
  return {
    now: () => now,
    async sleep(ms: number) {
      const before = now;
      now += ms;
      for (const [at, step] of Object.entries(script)) {
        if (Number(at) * 1000 > before && Number(at) * 1000 <= now) step();
      }
    },
  };
}

const wait = (guest: FakeGuest, clock = fakeClock(), timeoutSeconds = 60, seedAttached = true) =>
  waitForCloudInit(guest, dom, { timeoutSeconds, seedAttached, clock });

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected the wait to fail");
    },
    (error: Error) => error,
  );

describe("waitForCloudInit", () => {
  it("returns once result.json appears, after the agent came up and cloud-init ran its stages", async () => {
    const guest = new FakeGuest();
    guest.failure = agentError(ErrorCode.AGENT_UNRESPONSIVE, "QEMU guest agent is not connected");
    const clock = fakeClock({
      10: () => (guest.failure = undefined),
      20: () => guest.files.set(STATUS, status("init", ["init-local"])),
      40: () => guest.files.set(RESULT, result()),
    });
    await expect(wait(guest, clock)).resolves.toEqual({ elapsedMs: 40_000, datasource: NOCLOUD });
    expect(guest.openHandles).toBe(0);
    expect(guest.executed.filter((command) => command === "guest-info")).toHaveLength(1);
    expect(guest.executed).not.toContain("guest-exec");
  });

  it("says every 10 s how long it has waited and what the guest shows", async () => {
    const guest = new FakeGuest();
    guest.failure = agentError(ErrorCode.AGENT_UNRESPONSIVE, "QEMU guest agent is not connected");
    const clock = fakeClock({
      10: () => (guest.failure = undefined),
      20: () => guest.files.set(STATUS, status("init", ["init-local"])),
      35: () => guest.files.set(RESULT, result()),
    });
    const lines: string[] = [];
    const options = { timeoutSeconds: 900, seedAttached: true, clock };
    await waitForCloudInit(guest, dom, { ...options, status: (line) => lines.push(line) });
    expect(lines).toEqual([
      "waiting for cloud-init, 0 s of 900 s: the guest agent does not answer yet (QEMU guest agent is not connected)",
      "waiting for cloud-init, 10 s of 900 s: the guest agent answers; cloud-init has not started yet (no /run/cloud-init/status.json)",
      "waiting for cloud-init, 20 s of 900 s: cloud-init is still in stage init (finished init-local)",
      "waiting for cloud-init, 30 s of 900 s: cloud-init is still in stage init (finished init-local)",
    ]);
  });

  it("fails naming the errors cloud-init reports in result.json", async () => {
    const guest = new FakeGuest();
    const errors = [
      "('scripts_user', RuntimeError('Runparts: 1 failures in 1 attempted commands'))",
    ];
    guest.files.set(RESULT, result(errors));
    const error = await failure(wait(guest));
    expect(error).toBeInstanceOf(CloudInitWaitError);
    expect(error.message).toContain(`cloud-init finished with 1 error: ${errors[0]}`);
    expect(error.message).toContain("/var/log/cloud-init.log");
  });

  it("quotes at most five errors, each cut short", async () => {
    const guest = new FakeGuest();
    const errors = Array.from({ length: 7 }, (_, i) => `error ${i} ${"x".repeat(400)}`);
    guest.files.set(RESULT, result(errors));
    const { message } = await failure(wait(guest));
    expect(message).toContain("with 7 errors");
    expect(message).toContain("; and 2 more");
    expect(message).not.toContain("error 5");
    expect(message).not.toContain("x".repeat(301));
  });

  it("fails when cloud-init finished without reading the attached seed, not when none is attached", async () => {
    const guest = new FakeGuest();
    guest.files.set(RESULT, result([], "DataSourceNone"));
    expect((await failure(wait(guest))).message).toMatch(
      /without reading the NoCloud seed attached to the domain \(datasource DataSourceNone\)/,
    );
    await expect(wait(guest, fakeClock(), 60, false)).resolves.toMatchObject({
      datasource: "DataSourceNone",
    });
  });

  it("times out saying the agent never answered, with libvirt's words for it", async () => {
    const guest = new FakeGuest();
    guest.failure = agentError(ErrorCode.AGENT_UNRESPONSIVE, "QEMU guest agent is not connected");
    const { message } = await failure(wait(guest, fakeClock(), 30));
    expect(message).toBe(
      "cloud-init did not finish within 30 s (waitForCloudInit.timeout): the QEMU guest agent never answered (QEMU guest agent is not connected): is qemu-guest-agent installed and running in the guest, and did the guest boot? (its console log may say)",
    );
  });

  it("times out naming the stage cloud-init is in, the stages done and the errors so far", async () => {
    const guest = new FakeGuest();
    guest.files.set(
      STATUS,
      JSON.stringify({
        v1: {
          stage: "modules-config",
          datasource: NOCLOUD,
          "init-local": stage(true),
          init: stage(true, ["failed to set hostname"]),
          "modules-config": stage(false),
        },
      }),
    );
    const { message } = await failure(wait(guest, fakeClock(), 30));
    expect(message).toContain(
      "cloud-init is still in stage modules-config (finished init-local, init); errors so far: failed to set hostname",
    );
  });

  it("times out saying which stage has not started, and that no datasource was found", async () => {
    const guest = new FakeGuest();
    guest.files.set(STATUS, status(null, ["init-local", "init"], null));
    const { message } = await failure(wait(guest, fakeClock(), 30));
    expect(message).toContain(
      "cloud-init has finished init-local, init and not started modules-config yet; it found no datasource (is the NoCloud seed attached? set cloudInitDisk)",
    );
  });

  it("times out saying cloud-init has not started when the agent answers and status.json is missing", async () => {
    const { message } = await failure(wait(new FakeGuest(), fakeClock(), 30));
    expect(message).toMatch(/cloud-init has not started \(no \/run\/cloud-init\/status\.json\)/);
    expect(message).toMatch(/is cloud-init installed in the image\?/);
  });

  it("says so when the agent stopped answering after cloud-init had reached a stage", async () => {
    const guest = new FakeGuest();
    guest.files.set(STATUS, status("init", ["init-local"]));
    const clock = fakeClock({
      10: () => (guest.failure = agentError(ErrorCode.AGENT_UNRESPONSIVE, "agent not responding")),
    });
    const { message } = await failure(wait(guest, clock, 30));
    expect(message).toContain(
      "cloud-init is still in stage init (finished init-local); since then the guest agent stopped answering (agent not responding)",
    );
  });

  it("fails at once when cloud-init is disabled in the guest, e.g. for want of a seed", async () => {
    const guest = new FakeGuest();
    guest.files.set("/run/cloud-init/disabled", "");
    const clock = fakeClock();
    const { message } = await failure(wait(guest, clock, 600));
    expect(message).toMatch(/cloud-init is disabled in the guest for this boot/);
    expect(message).toMatch(/set the Domain's cloudInitDisk/);
    expect(clock.now()).toBe(0);
  });

  it("fails at once when the guest agent blocks the file commands", async () => {
    const guest = new FakeGuest();
    guest.blocked.add("guest-file-open");
    guest.blocked.add("guest-file-read");
    const clock = fakeClock();
    const { message } = await failure(wait(guest, clock, 600));
    expect(message).toMatch(/the guest agent does not allow guest-file-open, guest-file-read,/);
    expect(message).toMatch(/--block-rpcs/);
    expect(clock.now()).toBe(0);
  });

  it("fails at once when the domain has no agent channel", async () => {
    const guest = new FakeGuest();
    guest.failure = agentError(
      ErrorCode.ARGUMENT_UNSUPPORTED,
      "QEMU guest agent is not configured",
    );
    const { message } = await failure(wait(guest, fakeClock(), 600));
    expect(message).toMatch(/no guest agent channel.*set qemuAgent: true/);
  });

  it("fails when the domain stops while it waits", async () => {
    const guest = new FakeGuest();
    const clock = fakeClock({
      6: () => {
        guest.state = DomainState.SHUTOFF;
        guest.failure = agentError(ErrorCode.OPERATION_INVALID, "domain is not running");
      },
    });
    const { message } = await failure(wait(guest, clock, 600));
    expect(message).toBe(
      "the domain stopped (state shutoff) while waiting for cloud-init to finish; its console log may say why",
    );
  });

  it("passes on libvirt errors that waiting cannot cure", async () => {
    const guest = new FakeGuest();
    guest.failure = agentError(ErrorCode.NO_SUPPORT, "this function is not supported");
    await expect(wait(guest)).rejects.toMatchObject({ code: ErrorCode.NO_SUPPORT });
  });
});

describe("GuestAgent", () => {
  it("reads a file larger than one read, in order, and closes it", async () => {
    const guest = new FakeGuest();
    const content = Array.from({ length: 50_000 }, (_, i) => String(i % 10)).join("\n");
    guest.files.set("/etc/big", content);
    const bytes = await new GuestAgent(guest, dom).readFileIfExists("/etc/big", 1 << 20);
    expect(bytes?.toString()).toBe(content);
    expect(guest.executed.filter((command) => command === "guest-file-read")).toHaveLength(2);
    expect(guest.openHandles).toBe(0);
  });

  it("reads nothing, and opens nothing, when the agent cannot open the file", async () => {
    const guest = new FakeGuest();
    await expect(
      new GuestAgent(guest, dom).readFileIfExists("/nope", 100),
    ).resolves.toBeUndefined();
    expect(guest.openHandles).toBe(0);
  });

  it("refuses a file larger than asked for, and still closes it", async () => {
    const guest = new FakeGuest();
    guest.files.set("/etc/big", "x".repeat(200_000));
    await expect(new GuestAgent(guest, dom).readFileIfExists("/etc/big", 100_000)).rejects.toThrow(
      GuestAgentReplyError,
    );
    expect(guest.openHandles).toBe(0);
  });

  it("tells the agent's enabled commands from those it blocks", async () => {
    const guest = new FakeGuest();
    guest.blocked.add("guest-file-open");
    const commands = await new GuestAgent(guest, dom).commands();
    expect(commands.get("guest-file-open")).toBe(false);
    expect(commands.get("guest-file-read")).toBe(true);
  });
});
