/**
 * The change classifier: every difference between a Domain's inputs and its current state (the
 * outputs of the last read, i.e. libvirt's inactive XML plus the power state), each with the way
 * it is applied:
 *
 *   live     applied to the running domain and its config, no restart: autostart, title,
 *            description and the user's metadata element (machine-state.ts), memory within
 *            maxMemory, more vCPUs within maxVcpus, a new disk plugged in, interface hot(un)plug,
 *            an interface's link state and fixed address (its network's DHCP entry, nic-dhcp.ts),
 *            CD-ROM media, a disk's I/O limits (disk-iotune.ts), the display's password
 *            (device-changes.ts). Any other change of an interface (MTU, shaping, filter,
 *            attachment) or of host devices restarts: an interface is never pulled from under a
 *            running guest and plugged back. A disk the guest may be using is never unplugged or
 *            swapped live (the guest's filesystem on it would be cut off mid-write): removing a
 *            disk, changing its source or any other setting is a restart, so the guest shuts down
 *            cleanly first
 *   restart  the XML is redefined and the running domain is shut down and started again
 *            (refused before anything is touched when allowRestart is false)
 *   offline  as restart, but the domain is (or will be) shut off, so the redefinition is enough
 *   replace  only name, type, arch, machine, firmware and host
 *   power    start or shut down (the `running` input)
 *   setting  virtwire's own settings (timeouts, allowRestart, waitForAddresses, waitForCloudInit):
 *            nothing to do in libvirt
 *
 * Only what the user set is compared (with unset lists meaning "none"); sizes compare in bytes and
 * machine aliases equal their expansions (normalize.ts). Each change is described with the user's
 * property first (`memory 128MiB → 192MiB`), and only with properties the user set: a maxMemory
 * or maxVcpus left unset follows memory or vcpu, so its change is part of theirs.
 */
import { deepEqual, sameHost } from "../kit/diff";
import type {
  DomainDisk,
  DomainInputs,
  DomainNetworkInterface,
  DomainOutputs,
} from "../kit/generated/types";
import type { CheckedDomainInputs } from "../kit/generated/checked";
import type { ChangeClass } from "../kit/resource";
import { parseSize } from "../kit/units";
import { classifyDeviceChanges } from "./device-changes";
import { sameIoTune, sameTuning, withoutTuning } from "./disk-iotune";
import { comparableConsole } from "./xml-console";
import { attachmentOf } from "./nic-xml";
import { comparableHostdev } from "./xml-hostdevs";
import { matchDisks, matchInterfaces, sameSource } from "./devices";
import { classifyMachine } from "./machine-state";
import { editsPreview } from "./check-edits";
import { classifyFirmware } from "./firmware-state";
import {
  checkedDomain,
  comparableInterface,
  diskWithDefaults,
  effectiveMaxMemory,
  effectiveMaxVcpus,
  isSet,
  isUnknown,
  matchesWhereSet,
  sameMachine,
} from "./normalize";

export type { ChangeClass };

export interface DomainChange {
  property: string;
  class: ChangeClass;
  /** What changes, for the log line: "memory 128MiB → 160MiB", "disks: attach vdb". */
  detail: string;
}

/** How a change is applied, in the words of the summary line. */
export function changeLabel(change: DomainChange): string {
  switch (change.class) {
    case "offline":
      return "while shut off";
    case "power":
      return change.detail.endsWith("true") ? "start" : "shut down";
    case "setting":
      return "nothing to do in libvirt";
    default:
      return change.class;
  }
}

export interface Classification {
  changes: DomainChange[];
  replaces: string[];
  /** A restart-class change while the domain runs and should keep running. */
  needsRestart: boolean;
  /** Some change is applied by redefining the XML (restart or offline). */
  needsRedefine: boolean;
}

type Current = Omit<DomainOutputs, "uuid" | "state" | "macAddresses" | "interfaces">;

/** `given`: inputs as check() returns them, or anything check() would complete (checkedDomain). */
export function classifyChanges(current: Current, given: DomainInputs): Classification {
  const news = checkedDomain(given);
  const wantRunning = news.running;
  // A restart-class change needs a power cycle only if the domain runs and should keep running.
  const cycle = current.running === true && wantRunning;
  const changes: DomainChange[] = [];
  const add: Add = (cls, property, detail) => {
    const applied = cls === "config" ? (cycle ? "restart" : "offline") : cls;
    changes.push({ property, class: applied, detail });
  };
  classifyReplacements(current, news, add);
  classifySizes(current, news, add);
  classifyDisks(current, news, add);
  classifyInterfaces(current, news, add);
  classifyHostdevs(current, news, add);
  classifyRestartOnly(current, news, add);
  classifyDeviceChanges(
    current,
    news,
    add,
    changes.some((c) => c.property === "graphics"),
  );
  classifyMachine(current, news, add);
  classifyFirmware(current, news, add);
  const settings = [
    "shutdownTimeout",
    "allowRestart",
    "waitForAddresses",
    "waitForCloudInit",
  ] as const;
  for (const key of settings) {
    if (!deepEqual(current[key], news[key]))
      add("setting", key, change(key, current[key], news[key]));
  }
  if (!same(current.autostart, news.autostart)) {
    add("live", "autostart", `autostart ${current.autostart} → ${news.autostart}`);
  }
  if (!same(current.running, wantRunning)) {
    add("power", "running", `running ${current.running ?? false} → ${wantRunning}`);
  }
  return {
    changes,
    replaces: [...new Set(changes.filter((c) => c.class === "replace").map((c) => c.property))],
    needsRestart: changes.some((c) => c.class === "restart"),
    needsRedefine: changes.some((c) => c.class === "restart" || c.class === "offline"),
  };
}

/** "config": applied by redefining the XML, which is a restart or offline by the power state. */
type Add = (
  cls: Exclude<ChangeClass, "restart" | "offline"> | "config",
  property: string,
  detail: string,
) => void;

/** A list, unset, or a list of objects; not preview's unknown value in place of either. */
function knownList(value: unknown): boolean {
  return (
    value === undefined ||
    (Array.isArray(value) && value.every((item) => typeof item === "object" && item !== null))
  );
}

function same(a: unknown, b: unknown): boolean {
  return !isUnknown(b) && deepEqual(a, b);
}

/** `key old → new` for plain values, `key changed` for lists and objects. */
function change(key: string, old: unknown, value: unknown): string {
  const plain = (item: unknown) => item === undefined || typeof item !== "object";
  if (!plain(old) || !plain(value) || isUnknown(value)) return `${key} changed`;
  return `${key} ${old ?? "unset"} → ${value ?? "unset"}`;
}

function classifyReplacements(current: Current, news: CheckedDomainInputs, add: Add): void {
  if (!same(current.name, news.name)) add("replace", "name", `name ${current.name} → ${news.name}`);
  if (!same(current.type, news.type)) add("replace", "type", `type ${current.type} → ${news.type}`);
  if (!same(current.firmware, news.firmware))
    add("replace", "firmware", `firmware ${current.firmware} → ${news.firmware}`);
  if (isSet(news.arch) && !same(current.arch, news.arch))
    add("replace", "arch", `arch ${current.arch} → ${news.arch}`);
  if (
    isSet(news.machine) &&
    (isUnknown(news.machine) || !sameMachine(news.machine, current.machine))
  )
    add("replace", "machine", `machine ${current.machine} → ${news.machine}`);
  if (!sameHost(current.host, news.host))
    add("replace", "host", `host ${current.host || "default"} → ${news.host || "default"}`);
}

/**
 * A maximum the user set (or had set, and removed) is a change of its own; one left unset follows
 * memory or vcpu, and its change is described as theirs.
 */
function classifySizes(current: Current, news: CheckedDomainInputs, add: Add): void {
  const maxBefore = effectiveMaxMemory(current);
  const maxAfter = effectiveMaxMemory(news);
  const maxChanged = maxBefore !== maxAfter;
  const memory = parseSize(news.memory);
  const memoryChanged = memory !== parseSize(current.memory);
  if (maxChanged && (isSet(news.maxMemory) || !memoryChanged)) {
    add(
      "config",
      "maxMemory",
      `maxMemory ${current.maxMemory} → ${news.maxMemory ?? `unset (as memory, ${news.memory})`}`,
    );
  }
  if (memoryChanged) {
    // Without a balloon (memoryBalloon none) QEMU cannot change a running guest's memory.
    const live =
      !maxChanged &&
      memory !== undefined &&
      maxAfter !== undefined &&
      memory <= maxAfter &&
      news.memoryBalloon?.model !== "none";
    add(live ? "live" : "config", "memory", `memory ${current.memory} → ${news.memory}`);
  }
  const vcpusBefore = effectiveMaxVcpus(current);
  const vcpusAfter = effectiveMaxVcpus(news);
  const vcpuMaxChanged = vcpusBefore !== vcpusAfter;
  const vcpuChanged = !same(current.vcpu, news.vcpu);
  if (vcpuMaxChanged && (isSet(news.maxVcpus) || !vcpuChanged)) {
    add("config", "maxVcpus", `maxVcpus ${vcpusBefore} → ${vcpusAfter}`);
  }
  if (vcpuChanged) {
    // Adding vCPUs is a hotplug; taking them away needs the guest's cooperation, so it restarts.
    const live =
      !vcpuMaxChanged &&
      typeof news.vcpu === "number" &&
      news.vcpu > current.vcpu &&
      news.vcpu <= vcpusAfter;
    add(live ? "live" : "config", "vcpu", `vcpu ${current.vcpu} → ${news.vcpu}`);
  }
}

function classifyDisks(current: Current, news: CheckedDomainInputs, add: Add): void {
  if (!knownList(news.disks)) return add("config", "disks", "disks not known yet");
  const match = matchDisks(news.disks.map(diskWithDefaults), current.disks);
  for (const disk of match.added) add("live", "disks", `disks: attach ${describeDisk(disk)}`);
  for (const disk of match.removed) add("config", "disks", `disks: detach ${describeDisk(disk)}`);
  for (const { wanted, current: have } of match.pairs) {
    const rest = withoutTuning(wanted);
    const tuned = sameTuning(wanted, have);
    if (tuned && matchesWhereSet(rest, have)) {
      if (!sameIoTune(wanted, have)) add("live", "disks", `disks: ${have.target} iotune changed`);
      continue;
    }
    const newSource = !sameSource(wanted, have);
    const mediaOnly =
      wanted.device === "cdrom" &&
      have.device === "cdrom" &&
      newSource &&
      tuned &&
      sameIoTune(wanted, have) &&
      matchesWhereSet({ ...rest, volume: undefined, file: undefined }, have);
    if (mediaOnly)
      add("live", "disks", `disks: ${have.target} medium ${source(have)} → ${source(wanted)}`);
    else if (newSource)
      add("config", "disks", `disks: ${have.target} ${source(have)} → ${source(wanted)}`);
    else add("config", "disks", `disks: ${have.target} changed`);
  }
}

function classifyInterfaces(current: Current, news: CheckedDomainInputs, add: Add): void {
  if (!knownList(news.networkInterfaces)) {
    return add("config", "networkInterfaces", "networkInterfaces not known yet");
  }
  const wanted = news.networkInterfaces.map(comparableInterface);
  const match = matchInterfaces(wanted, current.networkInterfaces);
  const nicChange = (cls: "live" | "config", detail: string) =>
    add(cls, "networkInterfaces", `networkInterfaces: ${detail}`);
  for (const nic of match.added) nicChange("live", `attach on ${attachmentOf(nic)}`);
  for (const nic of match.removed) nicChange("live", `detach ${nic.mac} (on ${attachmentOf(nic)})`);
  for (const { wanted: w, current: found } of match.pairs) {
    // A state from before linkState was read has none: libvirt's default, up.
    const have = { ...found, linkState: found.linkState ?? "up" };
    const where = `${have.mac} (on ${attachmentOf(have)})`;
    // libvirt never adds these on its own: unset is none, and taking one away is a change.
    const removed = NONE_UNLESS_SET.some((key) => !isSet(w[key]) && isSet(have[key]));
    const live = liveChanges(w, have);
    if (!removed && live.length === 0 && matchesWhereSet(w, have)) continue;
    const rest = { ...w, linkState: undefined, address: undefined, hostname: undefined };
    // Only the link state or the DHCP entry differ: both change without touching the guest.
    if (!removed && matchesWhereSet(rest, have)) nicChange("live", `${where} ${live.join(", ")}`);
    else nicChange("config", `${where} changed`);
  }
}

/** `link up → down`, `address a → b`: the interface's changes that are applied live. */
function liveChanges(wanted: DomainNetworkInterface, have: DomainNetworkInterface): string[] {
  const parts: string[] = [];
  if (wanted.linkState !== have.linkState)
    parts.push(`link ${have.linkState} → ${wanted.linkState}`);
  for (const key of ["address", "hostname"] as const) {
    if (isUnknown(wanted[key]) || wanted[key] !== have[key])
      parts.push(`${key} ${have[key] ?? "unset"} → ${wanted[key] ?? "unset"}`);
  }
  return parts;
}

const NONE_UNLESS_SET = ["mtu", "bandwidth", "filter"] as const;

function classifyHostdevs(current: Current, news: CheckedDomainInputs, add: Add): void {
  if (!knownList(news.hostdevs)) return add("config", "hostdevs", "hostdevs not known yet");
  const wanted = news.hostdevs.map(comparableHostdev);
  if (!deepEqual(wanted, (current.hostdevs ?? []).map(comparableHostdev)))
    add("config", "hostdevs", "hostdevs changed");
}

/** Properties that can only be applied by redefining the domain. */
function classifyRestartOnly(current: Current, news: CheckedDomainInputs, add: Add): void {
  const changed = (property: string, wanted: unknown, have: unknown) => {
    if (!same(have, wanted)) add("config", property, `${property} changed`);
  };
  // An empty boot list is libvirt's default order, as no list is (found by the generated-inputs
  // test: `boot: []` read back as no list, and every up restarted the domain).
  if (isSet(news.boot) && (isUnknown(news.boot) || news.boot.length > 0)) {
    changed("boot", news.boot, current.boot);
  }
  changed("kernel", news.kernel, current.kernel);
  changed("initrd", news.initrd, current.initrd);
  changed("cmdline", news.cmdline, current.cmdline);
  changed(
    "cloudInitDisk",
    cloudInitSource(news.cloudInitDisk),
    cloudInitSource(current.cloudInitDisk),
  );
  const graphics = news.graphics;
  if (isUnknown(graphics)) {
    add("config", "graphics", "graphics not known yet");
  } else if (!graphics ? isSet(current.graphics) : !matchesWhereSet(graphics, current.graphics)) {
    add("config", "graphics", "graphics changed");
  }
  const console = isUnknown(news.console) ? news.console : comparableConsole(news.console);
  changed("console", console, current.console);
  changed("qemuAgent", news.qemuAgent, current.qemuAgent);
  changed("xmlPatches", news.xmlPatches ?? [], current.xmlPatches ?? []);
  if (!same(current.xmlEdits ?? [], news.xmlEdits ?? [])) {
    add("config", "xmlEdits", `xmlEdits changed${editsPreview(news)}`);
  }
}

function cloudInitSource(seed: DomainInputs["cloudInitDisk"]) {
  if (!seed) return undefined;
  return seed.path !== undefined ? { path: seed.path } : { pool: seed.pool, name: seed.name };
}

export function describeDisk(disk: DomainDisk): string {
  return disk.target ? `${disk.target} (${source(disk)})` : source(disk);
}

function source(disk: DomainDisk): string {
  const network = disk.network;
  if (network) return `${network.protocol} ${network.name ?? ""}@${network.hosts?.[0]?.name}`;
  if (!disk.volume) return disk.block ?? disk.file ?? "empty drive";
  const name = isUnknown(disk.volume.name) ? "(not known yet)" : disk.volume.name;
  return `volume ${disk.volume.pool}/${name}`;
}
