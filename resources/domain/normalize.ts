/**
 * What counts as "the same" when a Domain's inputs are compared with what libvirt reports, and
 * the few defaults schema.json cannot hold (they depend on another input). libvirt rewrites what
 * it is given: it expands machine aliases (`q35` → `pc-q35-7.2`), stores memory in KiB, generates
 * MAC addresses and disk addresses, and adds controllers, aliases, seclabels, pty paths and vnetN
 * names. xml-read.ts reads only the properties virtwire models (so additions it does not model
 * never show up); the rules here settle the rest.
 */
import { UNKNOWN, fillDefaults } from "../kit/check";
import { deepEqual } from "../kit/diff";
import { parseSize } from "../kit/units";
import type { DomainDisk, DomainDiskBus, DomainInputs } from "../kit/generated/types";
import type {
  CheckedDomainDisk,
  CheckedDomainInputs,
  CheckedDomainNetworkInterface,
} from "../kit/generated/checked";
import { withBlockSource } from "./xml-disk-source";

export const GUEST_AGENT_CHANNEL = "org.qemu.guest_agent.0";
/** The user alias that marks the cloud-init CD-ROM in the domain XML (`<alias name='ua-…'/>`). */
export const CLOUD_INIT_ALIAS = "ua-virtwire-cloudinit";

export function isUnknown(value: unknown): boolean {
  return value === UNKNOWN;
}

export function isSet<T>(value: T | undefined | null): value is T {
  return value !== undefined && value !== null;
}

/** A byte count in the largest binary unit that divides it: 134217728 → "128MiB". */
export function formatBytes(count: number): string {
  for (const [unit, factor] of [
    ["GiB", 1024 ** 3],
    ["MiB", 1024 ** 2],
    ["KiB", 1024],
  ] as const) {
    if (count >= factor && count % factor === 0) return `${count / factor}${unit}`;
  }
  return String(count);
}

/** The user's spelling of a size when it means the same bytes as libvirt's, else libvirt's. */
export function sizeInUserSpelling(
  given: number | string | undefined,
  actualBytes: number,
): number | string {
  return given !== undefined && parseSize(given) === actualBytes ? given : formatBytes(actualBytes);
}

/**
 * `q35` and `pc` are aliases libvirt expands when it defines the domain: `pc-q35-7.2`,
 * `pc-i440fx-7.2`. A given name equals the expanded one when it is the alias of it.
 */
export function sameMachine(given: string, actual: string | undefined): boolean {
  if (actual === undefined) return false;
  if (given === actual) return true;
  if (given === "pc") return /^pc-i440fx-[\d.]+$/.test(actual);
  return actual.startsWith(`pc-${given}-`) || actual.startsWith(`${given}-`);
}

/**
 * The inputs as check() returns them, schema.json's defaults set at every depth. The provider
 * hands over checked inputs already (a no-op then); the entry points fill what they are given
 * all the same, so hand-made inputs and those of a state an older virtwire wrote are complete too.
 */
export function checkedDomain(inputs: DomainInputs): CheckedDomainInputs {
  return fillDefaults("Domain", inputs);
}

/**
 * A disk's bus when none is given. Not a schema default: it depends on the device (a CD-ROM on
 * virtio is refused, check.ts).
 */
export function defaultBus(device: DomainDisk["device"]): DomainDiskBus {
  return device === "cdrom" ? "sata" : "virtio";
}

/**
 * A disk with bus and readOnly decided (and a `file` below /dev as the `block` device it is),
 * `target` and `format` left to planning. Neither is a
 * schema default, as both depend on the device: a CD-ROM is read-only and on SATA.
 */
export function diskWithDefaults(
  disk: CheckedDomainDisk,
): CheckedDomainDisk & Required<Pick<DomainDisk, "bus" | "readOnly">> {
  return {
    ...withBlockSource(disk),
    bus: disk.bus ?? defaultBus(disk.device),
    readOnly: disk.device === "cdrom" ? true : (disk.readOnly ?? false),
  };
}

/**
 * An interface as compared with libvirt's: its MAC in lower case, as libvirt writes it; an empty
 * bandwidth or filter parameter list is none, as libvirt keeps none of it.
 */
export function comparableInterface(
  nic: CheckedDomainNetworkInterface,
): CheckedDomainNetworkInterface {
  const result = { ...nic, mac: nic.mac?.toLowerCase() };
  const bandwidth = nic.bandwidth;
  if (bandwidth && !isUnknown(bandwidth) && !isSet(bandwidth.inbound) && !isSet(bandwidth.outbound))
    result.bandwidth = undefined;
  const parameters = nic.filter?.parameters;
  if (
    nic.filter &&
    isSet(parameters) &&
    !isUnknown(parameters) &&
    Object.keys(parameters).length === 0
  )
    result.filter = { name: nic.filter.name };
  return result;
}

/** Device-name prefix of a bus: vd, sd or hd. */
export function targetPrefix(bus: DomainDiskBus): string {
  return bus === "virtio" ? "vd" : bus === "ide" ? "hd" : "sd";
}

/** vda, vdb, … vdz, vdaa, vdab …: libvirt's own order (virDiskNameToIndex). */
export function targetName(prefix: string, index: number): string {
  let suffix = "";
  for (let i = index; i >= 0; i = Math.floor(i / 26) - 1) {
    suffix = String.fromCharCode(97 + (i % 26)) + suffix;
  }
  return prefix + suffix;
}

/** The first name with `prefix` that is not in `taken`. */
export function nextTarget(prefix: string, taken: Set<string>): string {
  for (let index = 0; ; index++) {
    const name = targetName(prefix, index);
    if (!taken.has(name)) return name;
  }
}

/** Effective memory ceiling and vCPU maximum: unset means "the same as the current value". */
export function effectiveMaxMemory(inputs: Pick<DomainInputs, "memory" | "maxMemory">) {
  return parseSize(inputs.maxMemory ?? inputs.memory);
}

export function effectiveMaxVcpus<T extends Pick<DomainInputs, "vcpu" | "maxVcpus">>(
  inputs: T,
): T["vcpu"] | number {
  return inputs.maxVcpus ?? inputs.vcpu;
}

/**
 * True when every property set in `wanted` has the same value in `actual`; properties the user
 * did not set are libvirt's business and never compared.
 */
export function matchesWhereSet(wanted: object, actual: object | undefined): boolean {
  const have = (actual ?? {}) as Record<string, unknown>;
  return Object.entries(wanted).every(
    ([key, value]) => !isSet(value) || (!isUnknown(value) && deepEqual(value, have[key])),
  );
}
