/**
 * What the host says about a Domain before anything is made, read-only: whether it can run the
 * domain type, architecture and machine type at all (its capabilities), and whether libvirt takes
 * each XML patch (each one alone in an otherwise minimal domain, turned into a QEMU command line
 * with CONNECT_DOMAIN_XML_TO_NATIVE, which parses and validates as a define does and defines
 * nothing). Only what is new or changed is asked about. Disks and interfaces are not: the volumes
 * and networks they name may be made by the same program, after this check.
 */
import { ErrorCode, Libvirt, LibvirtError } from "../../rpc";
import { UNKNOWN } from "../../provider/check";
import { deepEqual } from "../../provider/diff";
import type { CheckFailure, ResourceContext } from "../../provider/resource";
import { closest } from "../../provider/suggest";
import type { DomainInputs, DomainXmlPatch } from "../../sdk/types";
import { HostCapabilities, readCapabilities } from "./capabilities";
import { describePatch } from "./patches";
import { buildDomainXml } from "./xml-build";

/** Error codes with which libvirt refuses a domain definition (and not, say, the connection). */
const REFUSALS: readonly number[] = [
  ErrorCode.CONFIG_UNSUPPORTED,
  ErrorCode.XML_ERROR,
  ErrorCode.XML_DETAIL,
  ErrorCode.INVALID_ARG,
  ErrorCode.INTERNAL_ERROR,
  ErrorCode.OPERATION_UNSUPPORTED,
];

const HOST_PROPERTIES = ["type", "arch", "machine", "vcpu", "maxVcpus"] as const;

export async function preflightDomain(
  inputs: DomainInputs,
  olds: Partial<DomainInputs>,
  ctx: ResourceContext,
): Promise<CheckFailure[]> {
  if (HOST_PROPERTIES.some((name) => inputs[name] === UNKNOWN)) return [];
  const hostNew = HOST_PROPERTIES.some((name) => !deepEqual(inputs[name], olds[name]));
  const patches = (inputs.xmlPatches ?? []).flatMap((patch, index) =>
    isUnknownPatch(patch) || (olds.xmlPatches ?? []).some((old) => deepEqual(old, patch))
      ? []
      : [{ patch, index }],
  );
  if (!hostNew && patches.length === 0) return [];
  const lv = await ctx.connect(inputs.host);
  const { capabilities } = await lv.ConnectGetCapabilities();
  const failures = hostFailures(inputs, readCapabilities(capabilities));
  if (failures.length > 0 || patches.length === 0) return failures;
  // A minimal domain that libvirt refuses without any patch says nothing about the patches.
  if (await refusal(lv, probeXml(inputs, []))) return [];
  for (const { patch, index } of patches) {
    const refused = await refusal(lv, probeXml(inputs, [patch]));
    if (!refused) continue;
    failures.push({
      property: `xmlPatches[${index}]`,
      reason: `xmlPatches[${index}] (${describePatch(patch)}) is refused by libvirt: ${refused.message} (${refused.codeName}); fix or remove this patch`,
    });
  }
  return failures;
}

function hostFailures(inputs: DomainInputs, caps: HostCapabilities): CheckFailure[] {
  const arch = inputs.arch ?? caps.hostArch ?? "x86_64";
  const guest = caps.guests.get(arch);
  const archs = [...caps.guests.keys()].join(", ");
  if (!guest) {
    return [
      {
        property: "arch",
        reason: `arch ${arch}: libvirt on this host cannot run ${arch} guests (it can run ${archs || "none"}); use one of those, or install the QEMU emulator for ${arch} on the host`,
      },
    ];
  }
  const type = inputs.type ?? "kvm";
  const machines = guest.types.get(type);
  if (!machines) {
    const offered = [...guest.types.keys()].map((name) => JSON.stringify(name)).join(" or ");
    const reason =
      type === "kvm"
        ? `type "kvm": this host offers no KVM for ${arch} guests (no usable /dev/kvm, or another architecture); use type "qemu" (emulation, slower), or enable KVM on the host`
        : `type ${JSON.stringify(type)}: this host cannot run ${arch} guests of that type; use ${offered}`;
    return [{ property: "type", reason }];
  }
  const machine = inputs.machine;
  if (machine && !machines.has(machine)) {
    const hint = closest(machine, [...machines.keys()]);
    return [
      {
        property: "machine",
        reason: `machine ${JSON.stringify(machine)} is not a machine type of ${type} ${arch} guests on this host: ${hint ? `did you mean ${JSON.stringify(hint)}? ` : ""}use e.g. ${["q35", "pc", "virt"].filter((m) => machines.has(m)).join(" or ") || [...machines.keys()][0]}`,
      },
    ];
  }
  const limit = machine ? machines.get(machine) : undefined;
  const vcpus = Math.max(inputs.vcpu ?? 1, inputs.maxVcpus ?? 0);
  if (limit !== undefined && vcpus > limit) {
    const property = (inputs.maxVcpus ?? 0) >= (inputs.vcpu ?? 1) ? "maxVcpus" : "vcpu";
    return [
      {
        property,
        reason: `${property} ${vcpus} is more than machine ${machine} takes (${limit}): use at most ${limit}, or another machine type`,
      },
    ];
  }
  return [];
}

/** A domain with nothing but the basics and these patches (never defined: only converted). */
function probeXml(inputs: DomainInputs, patches: DomainXmlPatch[]): string {
  return buildDomainXml({
    inputs: {
      name: "virtwire-patch-check",
      type: "qemu",
      memory: "128MiB",
      arch: inputs.arch,
      machine: inputs.machine,
      xmlPatches: patches,
    },
    disks: [],
    interfaces: [],
  });
}

/** libvirt's refusal of a domain XML, or undefined when it takes it (or cannot tell). */
async function refusal(lv: Libvirt, xml: string): Promise<LibvirtError | undefined> {
  try {
    await lv.ConnectDomainXMLToNative({ nativeFormat: "qemu-argv", domainXml: xml, flags: 0 });
    return undefined;
  } catch (error) {
    // Other codes (no such procedure on another driver, denied by an ACL) mean "cannot tell".
    if (error instanceof LibvirtError && REFUSALS.includes(error.code)) return error;
    if (error instanceof LibvirtError) return undefined;
    throw error;
  }
}

function isUnknownPatch(patch: DomainXmlPatch): boolean {
  return [patch, patch?.parent, patch?.xml].includes(UNKNOWN as never);
}
