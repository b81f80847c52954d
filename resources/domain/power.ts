/**
 * Power state: start, graceful stop (ACPI power button or agent, chosen by libvirt; forced off
 * after the timeout), restart, and the state names the outputs report.
 */
import { DomainState, ErrorCode, hasErrorCode } from "../../rpc";
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

/** Starts a shut-off domain, resumes a paused one; a running one is left alone. */
export async function ensureRunning(lv: Libvirt, dom: RemoteNonnullDomain): Promise<void> {
  const state = await domainState(lv, dom);
  if (isRunningState(state)) return;
  if (state === DomainState.PAUSED) {
    await lv.DomainResume({ dom });
    return;
  }
  await lv.DomainCreate({ dom });
}

/**
 * Asks the guest to shut down and waits up to `timeoutSeconds`, then forces it off. Returns how it
 * went: "already" (was not active), "graceful" or "forced".
 */
export async function stopDomain(
  lv: Pick<Libvirt, "DomainIsActive" | "DomainGetState" | "DomainShutdown" | "DomainDestroy">,
  dom: RemoteNonnullDomain,
  timeoutSeconds: number,
): Promise<"already" | "graceful" | "forced"> {
  if (!(await lv.DomainIsActive({ dom })).active) return "already";
  if (timeoutSeconds > 0 && (await domainState(lv, dom)) !== DomainState.PAUSED) {
    const deadline = Date.now() + timeoutSeconds * 1000;
    // A guest still booting misses an ACPI power button press (nothing listens yet), so the
    // request is repeated until the guest goes or the time is up. Once the guest has powered off,
    // libvirt refuses further requests ("not running": state shutdown) for a second or two while
    // the domain is still active and its QEMU process exits; only inactive counts as stopped.
    let nextRequest = 0;
    while (Date.now() < deadline) {
      if (Date.now() >= nextRequest) {
        const requested = await requestShutdown(lv, dom);
        nextRequest = requested ? Date.now() + REPEAT_SHUTDOWN_MS : Infinity;
      }
      await sleep(POLL_MS);
      if (!(await lv.DomainIsActive({ dom })).active) return "graceful";
    }
  }
  try {
    await lv.DomainDestroy({ dom });
  } catch (error) {
    // It went off on its own between the last poll and the destroy.
    if (!notRunning(error)) throw error;
  }
  return "forced";
}

/**
 * Asks the guest to power off (agent or ACPI, libvirt's choice); false when libvirt says it is not
 * running (off, or already on its way down).
 */
async function requestShutdown(
  lv: Pick<Libvirt, "DomainShutdown">,
  dom: RemoteNonnullDomain,
): Promise<boolean> {
  try {
    await lv.DomainShutdown({ dom });
    return true;
  } catch (error) {
    if (notRunning(error)) return false;
    throw error;
  }
}

function notRunning(error: unknown): boolean {
  return hasErrorCode(error, ErrorCode.OPERATION_INVALID) && /not running/i.test(error.message);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
