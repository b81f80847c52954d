/**
 * Resetting a UEFI domain's NVRAM to its template (the `resetNvram` trigger): libvirt copies the
 * template over the NVRAM file when a domain starts with VIR_DOMAIN_START_RESET_NVRAM (libvirt 8.1
 * and later), and has no other way to do it. A domain that should run is started with the flag
 * (START_WITH_FRESH_NVRAM, handlers.ts); one that should stay shut off is started paused with it,
 * so the guest runs no code, and destroyed at once.
 */
import { DomainCreateFlags } from "../../rpc";
import type { Libvirt, RemoteNonnullDomain } from "../../rpc";

export const START_WITH_FRESH_NVRAM = DomainCreateFlags.START_RESET_NVRAM;

/** Resets the NVRAM of a shut-off domain, which stays shut off. */
export async function resetNvramWhileOff(lv: Libvirt, dom: RemoteNonnullDomain): Promise<void> {
  await lv.DomainCreateWithFlags({
    dom,
    flags: DomainCreateFlags.START_RESET_NVRAM | DomainCreateFlags.START_PAUSED,
  });
  await lv.DomainDestroy({ dom });
}
