/**
 * What counts as "the same" when a Domain's inputs are compared with what libvirt reports, and
 * the defaults virtwire fills into nested inputs. libvirt rewrites what it is given: it expands
 * machine aliases (`q35` → `pc-q35-7.2`), stores memory in KiB, generates MAC addresses and disk
 * addresses, and adds controllers, aliases, seclabels, pty paths and vnetN names. xml-read.ts
 * reads only the properties virtwire models (so additions it does not model never show up); the
 * rules here settle the rest.
 */
import { UNKNOWN, typeDefault } from "../kit/check";
import { deepEqual } from "../kit/diff";
import { parseSize } from "../kit/units";
import type {
  DomainConsole,
  DomainDisk,
  DomainDiskBus,
  DomainGraphics,
  DomainInputs,
  DomainNetworkInterface,
  DomainWaitForAddresses,
  DomainWaitForCloudInit,
} from "../kit/generated/types";

export const GUEST_AGENT_CHANNEL = "org.qemu.guest_agent.0";
/** The user alias that marks the cloud-init CD-ROM in the domain XML (`<alias name='ua-…'/>`). */
export const CLOUD_INIT_ALIAS = "ua-virtwire-cloudinit";
export const DEFAULT_LISTEN = "127.0.0.1";
export const DEFAULT_WAIT_SECONDS = 300;

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

export function defaultBus(device: DomainDisk["device"]): DomainDiskBus {
  return device === "cdrom" ? "sata" : "virtio";
}

/** A disk with every default filled in except `target` and `format` (decided when planning). */
export function diskWithDefaults(disk: DomainDisk): DomainDisk {
  const device = disk.device ?? "disk";
  return {
    ...disk,
    device,
    bus: disk.bus ?? defaultBus(device),
    readOnly: device === "cdrom" ? true : (disk.readOnly ?? false),
  };
}

export function interfaceWithDefaults(nic: DomainNetworkInterface): DomainNetworkInterface {
  return { ...nic, mac: nic.mac?.toLowerCase(), model: nic.model ?? "virtio" };
}

export function consoleWithDefaults(console: DomainConsole | undefined): DomainConsole {
  return console?.type === "file"
    ? { type: "file", path: console.path }
    : { type: console?.type ?? "pty" };
}

export function graphicsWithDefaults(graphics: DomainGraphics | undefined) {
  return graphics && { ...graphics, listen: graphics.listen ?? DEFAULT_LISTEN };
}

export function waitWithDefaults(
  wait: DomainWaitForAddresses | undefined,
): Required<DomainWaitForAddresses> | undefined {
  return wait && { timeout: wait.timeout ?? DEFAULT_WAIT_SECONDS, source: wait.source ?? "any" };
}

/** The cloud-init wait's timeout in seconds; check() fills in schema.json's default, as here. */
export function cloudInitTimeout(wait: DomainWaitForCloudInit): number {
  return wait.timeout ?? (typeDefault("DomainWaitForCloudInit", "timeout") as number);
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

export function effectiveMaxVcpus(inputs: Pick<DomainInputs, "vcpu" | "maxVcpus">) {
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
