/**
 * What the host says about a Domain before anything is made, read-only: whether it can run the
 * domain type, architecture and machine type at all (its capabilities), then whether libvirt takes
 * the domain's settings and each XML patch on top of them: the domain is turned into a QEMU
 * command line with CONNECT_DOMAIN_XML_TO_NATIVE, which parses and validates as a define does and
 * defines nothing. A refusal is pinned on a setting by asking again without it, and on a patch by
 * asking with that patch alone. Only what is new or changed is asked about. Disks and interfaces
 * are not: the volumes and networks they name may be made by the same program, after this check;
 * except that an interface waitForAddresses would wait for in vain, on a network that exists now,
 * is (address-wait.ts), and so is a fixed address outside such a network's subnets (nic-dhcp.ts).
 */
import { ErrorCode, Libvirt, LibvirtError } from "../../rpc";
import { UNKNOWN } from "../kit/check";
import { deepEqual } from "../kit/diff";
import type { CheckFailure, ResourceContext } from "../kit/resource";
import { closest } from "../kit/suggest";
import type { DomainInputs, DomainXmlPatch } from "../kit/generated/types";
import type { CheckedDomainInputs } from "../kit/generated/checked";
import { addressFailures } from "./address-wait";
import { fixedAddressFailures } from "./nic-dhcp";
import { HostCapabilities, readCapabilities } from "./capabilities";
import { deviceHostFailures } from "./device-checks";
import { checkedDomain } from "./normalize";
import { describePatch } from "./patches";
import { buildDomainXml } from "./xml-build";
import { MACHINE_SETTINGS } from "./machine-state";

/** Error codes with which libvirt refuses a domain definition (and not, say, the connection). */
const REFUSALS: readonly number[] = [
  ErrorCode.CONFIG_UNSUPPORTED,
  ErrorCode.XML_ERROR,
  ErrorCode.XML_DETAIL,
  ErrorCode.INVALID_ARG,
  ErrorCode.INTERNAL_ERROR,
  ErrorCode.OPERATION_UNSUPPORTED,
];

/** The small devices (xml-devices.ts), asked about and suspected alike. */
const DEVICES = [
  "video",
  "spiceAgent",
  "rng",
  "watchdog",
  "sound",
  "inputs",
  "memoryBalloon",
] as const;

/** What the host is asked about again when it changes (disks and interfaces never: see above). */
const ASKED = [
  "type",
  "arch",
  "machine",
  "vcpu",
  "maxVcpus",
  "memory",
  "maxMemory",
  "cpu",
  "firmware",
  "kernel",
  "initrd",
  "cmdline",
  "boot",
  "graphics",
  "console",
  "qemuAgent",
  ...DEVICES,
  ...MACHINE_SETTINGS,
] as const;

/** The settings a refusal of the whole is pinned on, one at a time, in this order. */
const SUSPECTS = [
  "cpu",
  "firmware",
  "graphics",
  "console",
  "boot",
  "kernel",
  "qemuAgent",
  ...DEVICES,
  ...MACHINE_SETTINGS,
] as const;

type Settings = Pick<DomainInputs, (typeof ASKED)[number]>;

export async function preflightDomain(
  inputs: CheckedDomainInputs,
  olds: Partial<DomainInputs>,
  ctx: ResourceContext,
): Promise<CheckFailure[]> {
  const failures = await settingsFailures(inputs, olds, ctx);
  if (failures.length > 0) return failures;
  return [
    ...(await addressFailures(inputs, olds, ctx)),
    ...(await fixedAddressFailures(inputs, olds, ctx)),
  ];
}

/** The domain's own settings and XML patches, as libvirt on the host takes them. */
async function settingsFailures(
  inputs: CheckedDomainInputs,
  olds: Partial<DomainInputs>,
  ctx: ResourceContext,
): Promise<CheckFailure[]> {
  if (ASKED.some((name) => containsUnknown(inputs[name]))) return [];
  const settingsNew = ASKED.some((name) => !deepEqual(inputs[name], olds[name]));
  const patches = (inputs.xmlPatches ?? []).flatMap((patch, index) =>
    containsUnknown(patch) || (olds.xmlPatches ?? []).some((old) => deepEqual(old, patch))
      ? []
      : [{ patch, index }],
  );
  if (!settingsNew && patches.length === 0) return [];
  const lv = await ctx.connect(inputs.host);
  const { capabilities } = await lv.ConnectGetCapabilities();
  const failures = hostFailures(inputs, readCapabilities(capabilities));
  if (failures.length === 0) failures.push(...(await deviceHostFailures(lv, inputs)));
  if (failures.length > 0) return failures;
  const settings = Object.fromEntries(ASKED.map((name) => [name, inputs[name]])) as Settings;
  const refused = await refusal(lv, probeXml(settings, []));
  // Settings libvirt took before (only a patch is new) are not held against the domain now.
  if (refused) return settingsNew ? [await blame(lv, settings, refused)] : [];
  for (const { patch, index } of patches) {
    const patchRefused = await refusal(lv, probeXml(settings, [patch]));
    if (!patchRefused) continue;
    failures.push({
      property: `xmlPatches[${index}]`,
      reason: `xmlPatches[${index}] (${describePatch(patch)}) is refused by libvirt: ${said(patchRefused)}; fix or remove this patch`,
    });
  }
  return failures;
}

/** The setting without which libvirt takes the domain, named with what libvirt said. */
async function blame(
  lv: Libvirt,
  settings: Settings,
  refused: LibvirtError,
): Promise<CheckFailure> {
  for (const name of SUSPECTS.filter((suspect) => settings[suspect] !== undefined)) {
    const without: Settings = { ...settings, [name]: undefined };
    if (name === "kernel") Object.assign(without, { initrd: undefined, cmdline: undefined });
    if (!(await refusal(lv, probeXml(without, [])))) {
      return {
        property: name,
        reason: `${name} is refused by libvirt on this host: ${said(refused)}; change or remove ${name}`,
      };
    }
  }
  return {
    property: "",
    reason: `libvirt on this host refuses this domain's settings: ${said(refused)}; change the setting it names`,
  };
}

function said(error: LibvirtError): string {
  return `${error.message} (${error.codeName})`;
}

function hostFailures(inputs: CheckedDomainInputs, caps: HostCapabilities): CheckFailure[] {
  // Not a schema default: an arch left out is the host's, as libvirt picks it.
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
  const type = inputs.type;
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
  const limits = [...machines.values()].filter((max): max is number => max !== undefined);
  const limit = machine ? machines.get(machine) : limits.length ? Math.max(...limits) : undefined;
  const vcpus = Math.max(inputs.vcpu, inputs.maxVcpus ?? 0);
  if (limit !== undefined && vcpus > limit) {
    const property = (inputs.maxVcpus ?? 0) >= inputs.vcpu ? "maxVcpus" : "vcpu";
    const takes = machine
      ? `machine ${machine} takes`
      : `any machine type of ${type} ${arch} guests on this host takes`;
    return [
      {
        property,
        reason: `${property} ${vcpus} is more than ${takes} (${limit}): use at most ${limit}${machine ? ", or another machine type" : ""}`,
      },
    ];
  }
  return [];
}

/**
 * The domain's own settings and these patches, without disks and interfaces (the volumes and
 * networks they name may not exist yet); never defined, only converted.
 */
function probeXml(settings: Settings, patches: DomainXmlPatch[]): string {
  return buildDomainXml({
    // A setting left out (blame) is the default, as in a domain that does not set it.
    inputs: checkedDomain({ ...settings, name: "virtwire-check", xmlPatches: patches }),
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

/** Whether a value is, or holds, a value not known yet (preview). */
function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (typeof value !== "object" || value === null) return false;
  return Object.values(value).some(containsUnknown);
}
