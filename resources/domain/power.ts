/**
 * Power state: start, graceful stop (ACPI power button or agent, chosen by libvirt; forced off
 * after the timeout), restart, and the state names the outputs report.
 */
import { DomainState, ErrorCode, hasErrorCode, isNotFound } from "../../rpc";
import type { Libvirt, RemoteNonnullDomain } from "../../rpc";

const POLL_MS = 250;
const REPEAT_SHUTDOWN_MS = 5000;

/** The state as the outputs report it: libvirt's name in lower case ("running", "shutoff"). */
export function stateName(state: DomainState): string {
  return (DomainState[state] as string | undefined)?.toLowerCase() ?? String(state);
}

export async function domainState(
  lv: Pick<Libvirt, "DomainGetState">,
  dom: RemoteNonnullDomain,
): Promise<DomainState> {
  return (await lv.DomainGetState({ dom, flags: 0 })).state as DomainState;
}

/** Running as far as `running: true` is concerned: the guest executes (or is blocked on I/O). */
export function isRunningState(state: DomainState): boolean {
  return state === DomainState.RUNNING || state === DomainState.BLOCKED;
}

/**
 * Starts a shut-off domain (with virDomainCreateFlags `startFlags`, if any), resumes a paused one;
 * a running one is left alone.
 */
export async function ensureRunning(
  lv: Libvirt,
  dom: RemoteNonnullDomain,
  startFlags = 0,
): Promise<void> {
  const state = await domainState(lv, dom);
  if (isRunningState(state)) return;
  if (state === DomainState.PAUSED) {
    await lv.DomainResume({ dom });
    return;
  }
  if (startFlags) await lv.DomainCreateWithFlags({ dom, flags: startFlags });
  else await lv.DomainCreate({ dom });
}

/**
 * Asks the guest to shut down and waits up to `timeoutSeconds`, then forces it off. Returns how it
 * went: "already" (was not active), "graceful" or "forced".
 */
export async function stopDomain(
  lv: Pick<Libvirt, "DomainIsActive" | "DomainGetState" | "DomainShutdown" | "DomainDestroy"> &
    Partial<Pick<Libvirt, "events">>,
  dom: RemoteNonnullDomain,
  timeoutSeconds: number,
): Promise<"already" | "graceful" | "forced"> {
  if (!(await lv.DomainIsActive({ dom })).active) return "already";
  if (timeoutSeconds > 0 && (await domainState(lv, dom)) !== DomainState.PAUSED) {
    const deadline = Date.now() + timeoutSeconds * 1000;
    const stopped = await stopWatch(lv, dom);
    try {
      // A guest still booting misses an ACPI power button press (nothing listens yet), so the
      // request is repeated until the guest goes or the time is up. Once the guest has powered
      // off, libvirt refuses further requests (state shutdown) for a second or two while the
      // domain is still active and its QEMU process exits; only inactive counts as stopped.
      let nextRequest = 0;
      while (Date.now() < deadline) {
        if (Date.now() >= nextRequest) {
          const answer = await requestShutdown(lv, dom);
          if (answer === "refused") break;
          nextRequest = answer === "requested" ? Date.now() + REPEAT_SHUTDOWN_MS : Infinity;
        }
        await stopped.sleep(POLL_MS);
        if (!(await lv.DomainIsActive({ dom })).active) return "graceful";
      }
    } finally {
      await stopped.close();
    }
  }
  try {
    await lv.DomainDestroy({ dom });
  } catch (error) {
    // It went off on its own between the last poll and the destroy (a transient one is gone).
    if (isNotFound(error)) return "forced";
    if (!hasErrorCode(error, ErrorCode.OPERATION_INVALID)) throw error;
    if ((await lv.DomainIsActive({ dom })).active) throw error;
  }
  return "forced";
}

/**
 * Asks the guest to power off (agent or ACPI, libvirt's choice). When libvirt refuses
 * (OPERATION_INVALID), the domain's state tells why: "going" when the guest is already on its way
 * down (or off), "refused" when it cannot be asked (crashed, suspended to memory): only forcing it
 * off stops it then.
 */
async function requestShutdown(
  lv: Pick<Libvirt, "DomainShutdown" | "DomainGetState">,
  dom: RemoteNonnullDomain,
): Promise<"requested" | "going" | "refused"> {
  try {
    await lv.DomainShutdown({ dom });
    return "requested";
  } catch (error) {
    if (!hasErrorCode(error, ErrorCode.OPERATION_INVALID)) throw error;
    const state = await domainState(lv, dom).catch((stateError: unknown) => {
      if (isNotFound(stateError)) return DomainState.SHUTOFF; // a transient domain, gone
      throw stateError;
    });
    return state === DomainState.SHUTDOWN || state === DomainState.SHUTOFF ? "going" : "refused";
  }
}

/**
 * The stop wait's pause between polls, cut short when libvirt reports the domain stopped (lifecycle
 * event STOPPED, sent once its QEMU process is gone), so a delete goes on at once instead of at
 * the next poll. The poll still decides: the event only wakes it, and a connection that cannot
 * register for events (or a fake without them) just polls.
 */
async function stopWatch(
  lv: Partial<Pick<Libvirt, "events">>,
  dom: RemoteNonnullDomain,
): Promise<{ sleep(ms: number): Promise<void>; close(): Promise<void> }> {
  let stopped = false;
  let wake: (() => void) | undefined;
  const subscription = await lv.events
    ?.onDomainLifecycle(
      (event) => {
        if (event.event !== "STOPPED") return;
        stopped = true;
        wake?.();
      },
      { dom },
    )
    // Only a quicker wake-up is lost: libvirt refuses a second registration for the same domain
    // and event on one connection (another stop of it under way), and the poll's own calls
    // report a broken connection.
    .catch(() => undefined);
  return {
    sleep: (ms) =>
      stopped
        ? Promise.resolve()
        : new Promise((resolve) => {
            const timer = setTimeout(done, ms);
            function done() {
              clearTimeout(timer);
              wake = undefined;
              resolve();
            }
            wake = done;
          }),
    close: async () => {
      await subscription?.unsubscribe().catch(() => undefined);
    },
  };
}
