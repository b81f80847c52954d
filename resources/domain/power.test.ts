/**
 * The graceful stop against a fake domain on a fake clock: libvirt's answers in the second or two
 * between a guest powering off and its QEMU process being gone (state "shutdown", still active,
 * shutdown requests refused as "not running") cannot be produced on cue by a real daemon; the
 * real-guest e2e test met them when two Debian guests restarted at once.
 */
import { DomainState, ErrorCode, ErrorDomain } from "../../rpc";
import type { RemoteNonnullDomain } from "../../rpc";
import { libvirtError } from "../../test/support/packets";
import { stopDomain } from "./power";

const dom: RemoteNonnullDomain = { name: "vm", uuid: Buffer.alloc(16), id: 1 };

/** A guest that powers off `offAfterMs` after the first request and is gone `exitMs` later. */
class FakeDomain {
  readonly calls: string[] = [];
  private requestedAt: number | undefined;

  constructor(
    private readonly offAfterMs: number,
    private readonly exitMs: number,
  ) {}

  private get phase(): "running" | "powered off" | "gone" {
    if (this.requestedAt === undefined) return "running";
    const since = Date.now() - this.requestedAt;
    if (since < this.offAfterMs) return "running";
    return since < this.offAfterMs + this.exitMs ? "powered off" : "gone";
  }

  async DomainIsActive() {
    return { active: this.phase === "gone" ? 0 : 1 };
  }

  async DomainGetState() {
    const state = { running: DomainState.RUNNING, "powered off": DomainState.SHUTDOWN };
    return { state: this.phase === "gone" ? DomainState.SHUTOFF : state[this.phase], reason: 1 };
  }

  async DomainShutdown() {
    this.calls.push(`shutdown while ${this.phase}`);
    if (this.phase !== "running") {
      throw libvirtError({
        code: ErrorCode.OPERATION_INVALID,
        domain: ErrorDomain.QEMU,
        message: "Requested operation is not valid: domain is not running",
      });
    }
    this.requestedAt ??= Date.now();
  }

  async DomainDestroy() {
    this.calls.push(`destroy while ${this.phase}`);
  }
}

/** A guest whose QEMU is still there after the guest crashed: nothing can ask it to power off. */
class CrashedDomain extends FakeDomain {
  constructor() {
    super(0, 0);
  }
  override async DomainIsActive() {
    return { active: this.calls.some((call) => call.startsWith("destroy")) ? 0 : 1 };
  }
  override async DomainGetState() {
    return { state: DomainState.CRASHED, reason: 1 };
  }
  override async DomainShutdown() {
    this.calls.push("shutdown while crashed");
    throw libvirtError({
      code: ErrorCode.OPERATION_INVALID,
      domain: ErrorDomain.QEMU,
      message: "Requested operation is not valid: domain is not running",
    });
  }
}

/** A FakeDomain on a connection with events: libvirt reports STOPPED the moment it is gone. */
class ReportingDomain extends FakeDomain {
  private report: ((event: { event: string }) => void) | undefined;
  subscribed = false;
  unsubscribed = false;

  constructor(private readonly goneAfterMs: number) {
    super(0, goneAfterMs);
  }

  readonly events = {
    onDomainLifecycle: async (handler: (event: { event: string }) => void) => {
      this.report = handler;
      this.subscribed = true;
      return { unsubscribe: async () => void (this.unsubscribed = true) };
    },
  };

  override async DomainShutdown() {
    await super.DomainShutdown();
    setTimeout(() => this.report?.({ event: "STOPPED" }), this.goneAfterMs);
  }
}

describe("stopDomain", () => {
  let started = 0;
  beforeEach(() => {
    jest.useFakeTimers();
    started = Date.now();
  });
  afterEach(() => jest.useRealTimers());

  /** Runs stopDomain, moving the clock in steps (one poll by default) until it returns. */
  const stop = async (domain: FakeDomain, timeoutSeconds: number, stepMs = 250) => {
    let result: string | undefined;
    void stopDomain(domain, dom, timeoutSeconds).then((how) => (result = how));
    for (let ms = 0; result === undefined && ms < (timeoutSeconds + 5) * 1000; ms += stepMs) {
      await jest.advanceTimersByTimeAsync(stepMs);
    }
    return { how: result, stoppedAfterMs: Date.now() - started };
  };

  it("waits until the domain is inactive when libvirt refuses a repeated request during power-off", async () => {
    // Powered off 4.9 s after the button press; the repeat at 5 s is refused; gone at 6.9 s.
    const domain = new FakeDomain(4_900, 2_000);
    const { how, stoppedAfterMs } = await stop(domain, 60);
    expect(how).toBe("graceful");
    expect(stoppedAfterMs).toBeGreaterThanOrEqual(6_900);
    expect(domain.calls).toEqual(["shutdown while running", "shutdown while powered off"]);
  });

  it("forces off a domain that stays powered off but active past the timeout", async () => {
    const domain = new FakeDomain(1_000, 60_000);
    const { how } = await stop(domain, 10);
    expect(how).toBe("forced");
    expect(domain.calls).toEqual([
      "shutdown while running",
      "shutdown while powered off",
      "destroy while powered off",
    ]);
  });

  it("forces off at once a crashed domain that libvirt cannot ask to power off", async () => {
    const domain = new CrashedDomain();
    const { how, stoppedAfterMs } = await stop(domain, 60);
    expect(how).toBe("forced");
    expect(stoppedAfterMs).toBeLessThan(1_000);
    expect(domain.calls).toEqual(["shutdown while crashed", "destroy while running"]);
  });

  it("is graceful at the first poll after a guest that goes at once", async () => {
    const domain = new FakeDomain(0, 200);
    expect((await stop(domain, 60)).how).toBe("graceful");
    expect(domain.calls).toEqual(["shutdown while running"]);
  });

  it("goes on as soon as libvirt reports the domain stopped, not at the next poll", async () => {
    const domain = new ReportingDomain(1_130);
    const { how, stoppedAfterMs } = await stop(domain, 60, 10);
    expect(how).toBe("graceful");
    expect(stoppedAfterMs).toBeGreaterThanOrEqual(1_130);
    expect(stoppedAfterMs).toBeLessThan(1_250);
    expect([domain.subscribed, domain.unsubscribed]).toEqual([true, true]);
  });
});
