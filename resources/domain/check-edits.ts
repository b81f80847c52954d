/**
 * xmlEdits at preview: each edit as written (one action, an XPath in the subset, well-formed XML),
 * then, when every input is known, all of them applied to the XML the inputs build, so an XPath
 * that selects nothing is refused before anything reaches libvirt.
 */
import type { CheckFailure } from "../kit/resource";
import type { CheckedDomainInputs } from "../kit/generated/checked";
import { isUnknown } from "./normalize";
import { planDomain } from "./plan";
import { buildEditedDomainXml } from "./xml-build";
import { EditError, describeOutcomes, editProblem } from "./xml-edits";

export function checkEdits(given: CheckedDomainInputs): CheckFailure[] {
  const edits = given.xmlEdits;
  if (edits === undefined || containsUnknown(edits)) return [];
  const failures = edits.flatMap((edit, index) => {
    const problem = editProblem(edit);
    return problem
      ? [{ property: `xmlEdits[${index}]`, reason: `xmlEdits[${index}] ${problem}` }]
      : [];
  });
  if (failures.length > 0 || containsUnknown(given)) return failures;
  try {
    buildEditedDomainXml(planDomain(given, undefined, new Map()));
  } catch (error) {
    if (error instanceof EditError) {
      return [{ property: `xmlEdits[${error.index}]`, reason: error.message }];
    }
    // Anything else the other rules report; the edits cannot be tried on XML that does not build.
  }
  return [];
}

/** Whether a value is, or holds, a value not known yet (preview). */
function containsUnknown(value: unknown): boolean {
  if (isUnknown(value)) return true;
  if (typeof value !== "object" || value === null) return false;
  return Object.values(value).some(containsUnknown);
}

/** `: [0] /domain/vcpu: <vcpu>2</vcpu> → <vcpu>4</vcpu>`, what the new edits do, when known. */
export function editsPreview(news: CheckedDomainInputs): string {
  if (!news.xmlEdits?.length || containsUnknown(news)) return "";
  try {
    return `: ${describeOutcomes(buildEditedDomainXml(planDomain(news, undefined, new Map())).edits)}`;
  } catch {
    return ""; // check() has refused these inputs already
  }
}
