/**
 * What a host can run, from libvirt's capabilities document (https://libvirt.org/formatcaps.html):
 *
 *   <capabilities>
 *     <host><cpu><arch>x86_64</arch></cpu></host>
 *     <guest>
 *       <os_type>hvm</os_type>
 *       <arch name='x86_64'>
 *         <machine maxCpus='288' canonical='pc-q35-7.2'>q35</machine> …
 *         <domain type='qemu'/>  <domain type='kvm'><machine …>…</machine></domain>
 *       </arch>
 *     </guest>
 *   </capabilities>
 *
 * A `<domain>` may list machines of its own besides the arch's.
 */
import { attr, element, elements, parseXml, text } from "../kit/xml";

export interface GuestArch {
  arch: string;
  /** Domain types (`qemu`, `kvm`) and the machine types each can run, with their vCPU limit. */
  types: Map<string, Map<string, number | undefined>>;
}

export interface HostCapabilities {
  hostArch?: string;
  /** hvm guests by architecture. */
  guests: Map<string, GuestArch>;
}

export function readCapabilities(xml: string): HostCapabilities {
  const caps = parseXml(xml, "capabilities");
  const guests = new Map<string, GuestArch>();
  for (const guest of elements(caps, "guest")) {
    if (text(guest, "os_type") !== "hvm") continue;
    const arch = element(guest, "arch");
    const name = attr(arch, "name");
    if (!name) continue;
    const common = machines(arch);
    const types = new Map<string, Map<string, number | undefined>>();
    for (const domain of elements(arch, "domain")) {
      const type = attr(domain, "type");
      if (type) types.set(type, new Map([...common, ...machines(domain)]));
    }
    guests.set(name, { arch: name, types });
  }
  return { hostArch: text(element(element(caps, "host"), "cpu"), "arch"), guests };
}

/** Machine names (aliases and canonical names) and their maxCpus. */
function machines(node: ReturnType<typeof element>): Map<string, number | undefined> {
  const found = new Map<string, number | undefined>();
  for (const machine of elements(node, "machine")) {
    const max = attr(machine, "maxCpus");
    const limit = max === undefined ? undefined : Number(max);
    const name = text(machine);
    if (name) found.set(name, limit);
    const canonical = attr(machine, "canonical");
    if (canonical && !found.has(canonical)) found.set(canonical, limit);
  }
  return found;
}
