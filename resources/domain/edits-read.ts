/**
 * Read-back under xmlEdits, without perpetual diffs. An edit may override what a property wrote
 * (`{ xpath: "/domain/vcpu", value: "4" }` with `vcpu: 2`): libvirt then reads back 4, and the
 * property would differ from its input forever. The rule: the inputs' XML is built twice, without
 * and with the edits, and read as libvirt's would be; a part of the description that the edits
 * change is reported as the unedited build reads (the input) while libvirt's XML reads exactly as
 * the edited build does. A change made outside virtwire there differs from both and shows as a
 * diff of that property, which a redefinition (with the edits) repairs.
 */
import { deepEqual } from "../kit/diff";
import type { DomainInputs, DomainOutputs } from "../kit/generated/types";
import { planDomain } from "./plan";
import { buildEditedDomainXml } from "./xml-build";
import { type DomainDescription, readDomainXml } from "./xml-read";

export function describedAsInputs(
  live: DomainDescription,
  previous: Partial<DomainInputs | DomainOutputs>,
): DomainDescription {
  if (!previous.xmlEdits?.length) return live;
  let plain: DomainDescription;
  let edited: DomainDescription;
  try {
    const plan = planDomain(previous as DomainInputs, live, new Map());
    edited = readDomainXml(buildEditedDomainXml(plan).xml);
    const inputs = { ...plan.inputs, xmlEdits: [] };
    plain = readDomainXml(buildEditedDomainXml({ ...plan, inputs }).xml);
  } catch {
    return live; // edits that no longer apply: report libvirt's values as they are
  }
  const shown: Record<string, unknown> = { ...live };
  for (const key of Object.keys(edited) as Array<keyof DomainDescription>) {
    if (!deepEqual(plain[key], edited[key]) && deepEqual(live[key], edited[key])) {
      shown[key] = plain[key];
    }
  }
  return shown as unknown as DomainDescription;
}
