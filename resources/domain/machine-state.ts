/**
 * The machine-level properties (xml-machine.ts) as outputs, compared for a diff, and applied live:
 *
 *   live     title, description and the user's metadata element: DOMAIN_SET_METADATA on the
 *            running domain and its config (AFFECT_LIVE | AFFECT_CONFIG), or the config only
 *   config   everything else (cpu, memoryBacking, iothreads, sysinfo, ignition, combustion, clock, features, on_*):
 *            a redefinition, so a restart while running (diff.ts)
 *
 * Only what the user set is compared, at every depth (libvirt adds its defaults: `fallback` on a
 * model, `offset` on the clock, the on_* actions); an empty title or description means none.
 */
import { DomainMetadataType } from "../../rpc";
import type { Libvirt, RemoteNonnullDomain } from "../../rpc";
import { deepEqual } from "../kit/diff";
import { parseSize } from "../kit/units";
import type { DomainInputs, DomainMetadata, DomainOutputs } from "../kit/generated/types";
import type { CheckedDomainInputs } from "../kit/generated/checked";
import { isSet, isUnknown, sizeInUserSpelling } from "./normalize";
import { canonicalXml } from "./xml-machine-read";
import type { MachineDescription } from "./xml-machine-read";

type Previous = Partial<DomainInputs | DomainOutputs>;

/** The outputs of the machine-level properties, in the user's spelling where it means the same. */
export function machineOutputs(description: MachineDescription, previous: Previous) {
  const cpu = description.cpu && {
    ...description.cpu,
    numaCells: description.cpu.numaCells?.map((cell, index) => ({
      ...cell,
      memory: sizeInUserSpelling(
        previous.cpu?.numaCells?.[index]?.memory,
        parseSize(cell.memory) ?? 0,
      ),
    })),
  };
  if (cpu && cpu.numaCells === undefined) delete cpu.numaCells;
  const backing = description.memoryBacking;
  const wantedSize = previous.memoryBacking?.hugepageSize;
  const memoryBacking =
    backing?.hugepageSize !== undefined
      ? {
          ...backing,
          hugepageSize: sizeInUserSpelling(wantedSize, parseSize(backing.hugepageSize) ?? 0),
        }
      : backing;
  return {
    cpu,
    memoryBacking,
    iothreads: description.iothreads,
    sysinfo: description.sysinfo,
    ignition: description.ignition,
    combustion: description.combustion,
    clock: description.clock,
    features: description.features,
    onPoweroff: description.onPoweroff,
    onReboot: description.onReboot,
    onCrash: description.onCrash,
    title: description.title,
    description: description.description,
    metadata: userMetadata(description.metadataElements, previous.metadata),
  };
}

/**
 * The user's element among those in `<metadata>`: the one in the namespace they gave (the first
 * foreign one for a get), with their own spelling of the XML when it means the same.
 */
function userMetadata(
  found: DomainMetadata[],
  given: DomainMetadata | undefined,
): DomainMetadata | undefined {
  const element = given?.namespace ? found.find((e) => e.namespace === given.namespace) : found[0];
  if (!element || !given) return element;
  const same = given.xml !== undefined && canonicalXml(given.xml) === canonicalXml(element.xml);
  return same ? { ...element, xml: given.xml } : element;
}

/** True when everything set in `wanted` (at any depth) is the same in `have`. */
export function matchesDeep(wanted: unknown, have: unknown): boolean {
  if (isUnknown(wanted)) return false;
  if (Array.isArray(wanted)) {
    // An empty list writes nothing, and libvirt has nothing: the same.
    if (wanted.length === 0 && have === undefined) return true;
    return (
      Array.isArray(have) &&
      have.length === wanted.length &&
      wanted.every((item, index) => matchesDeep(item, have[index]))
    );
  }
  if (typeof wanted === "object" && wanted !== null) {
    const other = (typeof have === "object" && have !== null ? have : {}) as Record<
      string,
      unknown
    >;
    return Object.entries(wanted).every(
      ([key, value]) => !isSet(value) || matchesDeep(value, other[key]),
    );
  }
  return deepEqual(wanted, have);
}

/** cpu with its NUMA cells' memory in bytes, so `1GiB` equals libvirt's `1048576` KiB. */
function comparableCpu(cpu: DomainInputs["cpu"]): unknown {
  if (!cpu || isUnknown(cpu) || !Array.isArray(cpu.numaCells)) return cpu;
  return {
    ...cpu,
    numaCells: cpu.numaCells.map((cell) =>
      isUnknown(cell) ? cell : { ...cell, memory: parseSize(cell.memory) ?? cell.memory },
    ),
  };
}

/** The machine-level settings applied by a redefinition (preflight.ts asks the host about them). */
export const MACHINE_SETTINGS = [
  "memoryBacking",
  "iothreads",
  "sysinfo",
  "clock",
  "features",
  "onPoweroff",
  "onReboot",
  "onCrash",
] as const;

type Add = (cls: "live" | "config", property: string, detail: string) => void;

type Current = Partial<
  Pick<DomainOutputs, "cpu" | "title" | "description" | "metadata" | "ignition" | "combustion">
> &
  Partial<Pick<DomainOutputs, (typeof MACHINE_SETTINGS)[number]>>;

export function classifyMachine(current: Current, news: CheckedDomainInputs, add: Add): void {
  if (isSet(news.cpu) && !matchesDeep(comparableCpu(news.cpu), comparableCpu(current.cpu)))
    add("config", "cpu", "cpu changed");
  for (const key of MACHINE_SETTINGS) {
    if (isSet(news[key]) && !matchesDeep(news[key], current[key]))
      add("config", key, `${key} changed`);
  }
  // Unlike the settings above, removing a first-boot config removes its fw_cfg entry.
  for (const key of ["ignition", "combustion"] as const) {
    if (!isUnknown(news[key]) && !deepEqual(news[key], current[key]))
      add("config", key, `${key} changed`);
  }
  for (const key of ["title", "description"] as const) {
    const wanted = news[key];
    if (isSet(wanted) && (isUnknown(wanted) || (wanted || undefined) !== current[key]))
      add("live", key, `${key} changed`);
  }
  if (isSet(news.metadata) && !sameMetadata(news.metadata, current.metadata))
    add("live", "metadata", "metadata changed");
}

function sameMetadata(wanted: DomainMetadata, have: DomainMetadata | undefined): boolean {
  if (isUnknown(wanted) || Object.values(wanted).some(isUnknown) || !have) return false;
  return (
    wanted.namespace === have.namespace &&
    wanted.prefix === have.prefix &&
    canonicalXml(wanted.xml) === canonicalXml(have.xml)
  );
}

/** Title, description and the user's metadata element, as classifyMachine found them changed. */
export async function applyMachineLive(
  lv: Libvirt,
  dom: RemoteNonnullDomain,
  current: Current,
  news: CheckedDomainInputs,
  flags: number,
): Promise<void> {
  const set = (type: DomainMetadataType, metadata?: string, key?: string, uri?: string) =>
    lv.DomainSetMetadata({
      dom,
      type,
      metadata: metadata ?? null,
      key: key ?? null,
      uri: uri ?? null,
      flags,
    });
  // An empty string removes the title or description (libvirt takes an absent one as removal).
  if (isSet(news.title) && (news.title || undefined) !== current.title)
    await set(DomainMetadataType.TITLE, news.title || undefined);
  if (isSet(news.description) && (news.description || undefined) !== current.description)
    await set(DomainMetadataType.DESCRIPTION, news.description || undefined);
  const wanted = news.metadata;
  if (!isSet(wanted) || sameMetadata(wanted, current.metadata)) return;
  const old = current.metadata;
  if (old && old.namespace !== wanted.namespace) {
    await set(DomainMetadataType.ELEMENT, undefined, undefined, old.namespace);
  }
  await set(DomainMetadataType.ELEMENT, wanted.xml, wanted.prefix, wanted.namespace);
}
