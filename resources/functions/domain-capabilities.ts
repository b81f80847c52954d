/**
 * getDomainCapabilities: CONNECT_GET_DOMAIN_CAPABILITIES read into typed fields
 * (domain-capabilities-xml.ts), with the machine types of that architecture and virt type from
 * the host's capabilities document (the domain capabilities name only the one machine asked for).
 */
import type { Libvirt } from "../../rpc";
import type {
  GetDomainCapabilitiesArgs,
  GetDomainCapabilitiesResult,
} from "../kit/generated/types";
import { readCapabilities } from "../domain/capabilities";
import { readDomainCapabilities } from "./domain-capabilities-xml";

export async function getDomainCapabilities(
  lv: Libvirt,
  args: GetDomainCapabilitiesArgs,
): Promise<GetDomainCapabilitiesResult> {
  const [domain, host] = await Promise.all([
    lv.ConnectGetDomainCapabilities({
      emulatorbin: args.emulator ?? null,
      arch: args.arch ?? null,
      machine: args.machine ?? null,
      virttype: args.virtType ?? null,
      flags: 0,
    }),
    lv.ConnectGetCapabilities(),
  ]);
  const caps = readDomainCapabilities(domain.capabilities);
  const machines = readCapabilities(host.capabilities)
    .guests.get(caps.arch)
    ?.types.get(caps.virtType);
  return { ...caps, machineTypes: [...(machines?.keys() ?? [])] };
}
