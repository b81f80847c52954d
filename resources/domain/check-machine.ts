/**
 * Rules for the machine-level settings (xml-machine.ts) that schema.json cannot express: the CPU
 * topology against the vCPU count, NUMA cells against vCPUs and memory, names given twice, and the
 * user's metadata element, which must never stand in for virtwire's mark (owner.ts).
 */
import { fragment } from "../kit/xmlbuilder";
import type { CheckFailure } from "../kit/resource";
import type { CheckedDomainInputs } from "../kit/generated/checked";
import { RESOURCE_NAMESPACE, RESOURCE_PREFIX } from "../kit/owner";
import { parseSize } from "../kit/units";
import { wellFormedProblem } from "./patches";
import { SYSINFO_BLOCKS } from "./xml-machine";
import { effectiveMaxMemory, effectiveMaxVcpus, formatBytes, isUnknown } from "./normalize";

type Inputs = Partial<CheckedDomainInputs>;

const fail = (property: string, reason: string): CheckFailure[] => [{ property, reason }];

const known = (value: unknown): boolean => value !== undefined && !isUnknown(value);

export function checkMachine(inputs: Inputs): CheckFailure[] {
  return [
    ...topology(inputs),
    ...numa(inputs),
    ...cpuFeatures(inputs),
    ...memoryBacking(inputs),
    ...timers(inputs),
    ...lifecycle(inputs),
    ...acpiForUefi(inputs),
    ...sysinfoValues(inputs),
    ...metadata(inputs),
    ...patchesOverProperties(inputs),
  ];
}

/** Top-level elements a property writes, which a patch under `<domain>` would write twice. */
const WRITTEN_BY: Record<string, keyof Inputs> = {
  memoryBacking: "memoryBacking",
  iothreads: "iothreads",
  sysinfo: "sysinfo",
  clock: "clock",
  on_poweroff: "onPoweroff",
  on_reboot: "onReboot",
  on_crash: "onCrash",
  title: "title",
  description: "description",
};

function patchesOverProperties(inputs: Inputs): CheckFailure[] {
  const patches = inputs.xmlPatches;
  if (!known(patches) || !Array.isArray(patches)) return [];
  return patches.flatMap((patch, index) => {
    if (!known(patch) || patch.parent !== "." || !known(patch.xml)) return [];
    for (const [element, property] of Object.entries(WRITTEN_BY)) {
      if (inputs[property] === undefined || !new RegExp(`<${element}[\\s/>]`).test(patch.xml))
        continue;
      return fail(
        `xmlPatches[${index}]`,
        `xmlPatches[${index}] adds <${element}>, which ${property} writes too: set it in ${property} and remove it from the patch`,
      );
    }
    return [];
  });
}

function topology({ cpu, vcpu, maxVcpus }: Inputs): CheckFailure[] {
  const layout = cpu?.topology;
  if (!known(layout) || !known(vcpu) || isUnknown(maxVcpus)) return [];
  const { sockets, cores, threads } = layout!;
  if (![sockets, cores, threads].every((n) => typeof n === "number")) return [];
  const product = sockets * cores * threads;
  const total = effectiveMaxVcpus({ vcpu: vcpu!, maxVcpus });
  if (product === total) return [];
  const name = maxVcpus !== undefined ? "maxVcpus" : "vcpu";
  return fail(
    "cpu.topology",
    `cpu.topology: sockets×cores×threads = ${sockets}×${cores}×${threads} = ${product} but ${name} is ${total}: set ${name} to ${product}, or change the topology so that the product is ${total}`,
  );
}

/** "0-1,3" → [0, 1, 3]; undefined when a range runs backwards. */
export function parseCpuList(list: string): number[] | undefined {
  const found: number[] = [];
  for (const part of list.split(",")) {
    const [from, to = from] = part.split("-").map(Number) as [number, number?];
    if (to! < from) return undefined;
    for (let n = from; n <= to!; n++) found.push(n);
  }
  return found;
}

function numa({ cpu, vcpu, maxVcpus, memory, maxMemory }: Inputs): CheckFailure[] {
  const cells = cpu?.numaCells;
  if (!known(cells) || !Array.isArray(cells)) return [];
  const failures: CheckFailure[] = [];
  const total =
    known(vcpu) && !isUnknown(maxVcpus) ? effectiveMaxVcpus({ vcpu: vcpu!, maxVcpus }) : undefined;
  const owner = new Map<number, number>();
  let bytes = 0;
  cells.forEach((cell, index) => {
    const path = `cpu.numaCells[${index}]`;
    if (!known(cell)) return;
    const size = parseSize(cell.memory);
    bytes = size === undefined || Number.isNaN(bytes) ? NaN : bytes + size;
    if (size !== undefined && size % 1024 !== 0)
      failures.push(
        ...fail(
          `${path}.memory`,
          `${path}.memory ${cell.memory} is not a whole number of KiB; use e.g. ${formatBytes(size - (size % 1024))}`,
        ),
      );
    if (!known(cell.cpus)) return;
    const cpus = parseCpuList(cell.cpus);
    if (!cpus) {
      failures.push(
        ...fail(
          `${path}.cpus`,
          `${path}.cpus ${JSON.stringify(cell.cpus)} has a range that runs backwards: write it low-high, e.g. 0-3`,
        ),
      );
      return;
    }
    for (const n of cpus) {
      if (total !== undefined && n >= total) {
        failures.push(
          ...fail(
            `${path}.cpus`,
            `${path}.cpus names vCPU ${n}, but the domain has vCPUs 0-${total - 1} (maxVcpus, or vcpu): raise maxVcpus or use vCPUs below ${total}`,
          ),
        );
        return;
      }
      const other = owner.get(n);
      if (other !== undefined) {
        failures.push(
          ...fail(
            `${path}.cpus`,
            `${path}.cpus: vCPU ${n} is in cpu.numaCells[${other}] too; put each vCPU in one cell`,
          ),
        );
        return;
      }
      owner.set(n, index);
    }
  });
  const want =
    isUnknown(memory) || isUnknown(maxMemory) || memory === undefined
      ? undefined
      : effectiveMaxMemory({ memory, maxMemory });
  if (want !== undefined && !Number.isNaN(bytes) && cells.every(known) && bytes !== want) {
    const name = maxMemory !== undefined ? "maxMemory" : "memory";
    failures.push(
      ...fail(
        "cpu.numaCells",
        `cpu.numaCells: the cells' memory adds up to ${formatBytes(bytes)} but ${name} is ${formatBytes(want)}: make the cells add up to ${name}, or set ${name} to ${formatBytes(bytes)}`,
      ),
    );
  }
  return failures;
}

function duplicates(names: unknown[], property: string, what: string): CheckFailure[] {
  const seen = new Set<unknown>();
  for (const [index, name] of names.entries()) {
    if (!known(name)) continue;
    if (seen.has(name))
      return fail(
        `${property}[${index}]`,
        `${property}[${index}]: ${what} ${JSON.stringify(name)} is given twice; give each once`,
      );
    seen.add(name);
  }
  return [];
}

function cpuFeatures({ cpu }: Inputs): CheckFailure[] {
  if (known(cpu?.fallback) && !known(cpu?.model) && !isUnknown(cpu?.model))
    return fail(
      "cpu.fallback",
      `cpu.fallback is only used with cpu.model (mode "custom"); remove it, or name a model`,
    );
  const features = cpu?.features;
  if (!known(features) || !Array.isArray(features)) return [];
  return duplicates(
    features.map((f) => f?.name),
    "cpu.features",
    "feature",
  );
}

function memoryBacking({ memoryBacking: backing }: Inputs): CheckFailure[] {
  if (!known(backing)) return [];
  if (backing!.hugepageSize !== undefined && !backing!.hugepages) {
    return fail(
      "memoryBacking.hugepageSize",
      `memoryBacking.hugepageSize needs memoryBacking.hugepages: true; set it, or remove hugepageSize`,
    );
  }
  const size = parseSize(backing!.hugepageSize);
  if (size !== undefined && (size < 4096 || size % 1024 !== 0)) {
    return fail(
      "memoryBacking.hugepageSize",
      `memoryBacking.hugepageSize ${backing!.hugepageSize} is not a page size; use e.g. 2MiB or 1GiB`,
    );
  }
  return [];
}

function timers({ clock }: Inputs): CheckFailure[] {
  const list = clock?.timers;
  if (!known(list) || !Array.isArray(list)) return [];
  const failures = duplicates(
    list.map((t) => t?.name),
    "clock.timers",
    "timer",
  );
  list.forEach((timer, index) => {
    if (!known(timer)) return;
    const path = `clock.timers[${index}]`;
    if (timer.present === false && timer.tickPolicy !== undefined)
      failures.push(
        ...fail(
          `${path}.tickPolicy`,
          `${path}: a timer with present: false has no ticks; remove tickPolicy or present`,
        ),
      );
    if (timer.tickPolicy !== undefined && !["rtc", "pit", "hpet"].includes(timer.name))
      failures.push(
        ...fail(
          `${path}.tickPolicy`,
          `${path}.tickPolicy applies to rtc, pit and hpet, not ${timer.name}; remove it`,
        ),
      );
  });
  return failures;
}

/**
 * The QEMU driver's limits on the lifecycle actions (qemuValidateLifecycleAction): a core dump only
 * on a crash, no preserve or rename-restart on power-off or reboot, and not "reboot → destroy"
 * with "power-off → restart".
 */
function lifecycle(inputs: Inputs): CheckFailure[] {
  for (const key of ["onPoweroff", "onReboot"] as const) {
    const action = inputs[key];
    if (!known(action)) continue;
    if (action!.startsWith("coredump-"))
      return fail(
        key,
        `${key} ${JSON.stringify(action)} is only for onCrash; use destroy or restart`,
      );
    if (action === "preserve" || action === "rename-restart")
      return fail(
        key,
        `${key} ${JSON.stringify(action)} is not supported by QEMU domains (only onCrash takes preserve); use destroy or restart`,
      );
  }
  if (inputs.onReboot === "destroy" && inputs.onPoweroff === "restart")
    return fail(
      "onPoweroff",
      `onPoweroff "restart" with onReboot "destroy" is not supported by QEMU domains; use onPoweroff "destroy", or onReboot "restart"`,
    );
  if (inputs.onCrash === "rename-restart")
    return fail(
      "onCrash",
      `onCrash "rename-restart" is not supported by QEMU domains; use restart, destroy, preserve or a coredump- action`,
    );
  return [];
}

/**
 * libvirt drops an SMBIOS value that is empty or only white space, and trims others: such a value
 * would never read back as given (found by the generated-inputs test on libvirt 11).
 */
function sysinfoValues({ sysinfo }: Inputs): CheckFailure[] {
  if (!known(sysinfo)) return [];
  const values: Array<[string, unknown]> = Object.entries(SYSINFO_BLOCKS).flatMap(
    ([block, names]) =>
      names.map((name): [string, unknown] => [
        `sysinfo.${block}.${name}`,
        (sysinfo as Record<string, Record<string, unknown> | undefined>)[block]?.[name],
      ]),
  );
  if (Array.isArray(sysinfo!.oemStrings))
    sysinfo!.oemStrings.forEach((value, index) =>
      values.push([`sysinfo.oemStrings[${index}]`, value]),
    );
  for (const [property, value] of values) {
    if (typeof value === "string" && (value === "" || value.trim() !== value))
      return fail(
        property,
        `${property} ${JSON.stringify(value)} ${value.trim() ? "starts or ends with white space, which libvirt trims" : "is empty, and libvirt drops it"}; remove the white space, or leave ${property} out`,
      );
  }
  return [];
}

/** UEFI on x86 needs ACPI (libvirt refuses it otherwise). */
function acpiForUefi({ features, firmware }: Inputs): CheckFailure[] {
  return known(features) && features!.acpi === false && firmware === "efi"
    ? fail(
        "features.acpi",
        `features.acpi false: UEFI (firmware "efi") needs ACPI; remove features.acpi: false, or use firmware "bios"`,
      )
    : [];
}

function metadata({ metadata: given }: Inputs): CheckFailure[] {
  if (!known(given)) return [];
  const { namespace, prefix, xml } = given!;
  if (known(namespace) && namespace === RESOURCE_NAMESPACE)
    return fail(
      "metadata.namespace",
      `metadata.namespace ${namespace} is virtwire's own (its mark of the resource); use a namespace of your own, e.g. https://example.com/xmlns/app/1`,
    );
  if (known(prefix) && prefix === RESOURCE_PREFIX)
    return fail(
      "metadata.prefix",
      `metadata.prefix "${RESOURCE_PREFIX}" is virtwire's own; use another, e.g. app`,
    );
  if (!known(xml)) return [];
  if (xml.includes(RESOURCE_NAMESPACE))
    return fail(
      "metadata.xml",
      `metadata.xml names virtwire's namespace ${RESOURCE_NAMESPACE}; leave virtwire's mark to virtwire and use your own namespace`,
    );
  const problem = wellFormedProblem(xml);
  if (problem)
    return fail(
      "metadata.xml",
      `metadata.xml is not well-formed XML (${problem}); give one element, e.g. <app><owner>alice</owner></app>`,
    );
  const oneElement = fail(
    "metadata.xml",
    `metadata.xml must be exactly one element (with anything inside it), e.g. <app><owner>alice</owner></app>`,
  );
  // xmlbuilder2 takes a string that is not markup ("" too) as an element name: refuse it first.
  if (!/^\s*</.test(xml)) return oneElement;
  let elements = 0;
  let root:
    { localName?: string; namespaceURI?: string | null; prefix?: string | null } | undefined;
  try {
    const parsed = fragment(xml);
    for (const child of parsed.node.childNodes as unknown as Array<{
      nodeType: number;
      textContent: string | null;
    }>) {
      if (child.nodeType === 1) {
        elements++;
        root = child as typeof root;
      } else if (child.nodeType === 3 && child.textContent?.trim()) elements += 2;
    }
  } catch (error) {
    return fail(
      "metadata.xml",
      `metadata.xml is not well-formed XML (${(error as Error).message}); give one element, e.g. <app><owner>alice</owner></app>`,
    );
  }
  if (elements !== 1) return oneElement;
  if (root?.prefix || root?.namespaceURI)
    return fail(
      "metadata.xml",
      `metadata.xml's element has a namespace of its own; write it without one (<app>…</app>): virtwire puts it in metadata.namespace`,
    );
  return [];
}
