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

/**
 * `: [0] /domain/vcpu: <vcpu>2</vcpu> → <vcpu>4</vcpu>`, what the new edits do, when known. The
 * nodes shown have their `passwd` masked (xml-edits.ts); the value of graphicsPassword, the one
 * secret input, is masked wherever else it would show.
 */
export function editsPreview(news: CheckedDomainInputs): string {
  if (!news.xmlEdits?.length || containsUnknown(news)) return "";
  try {
    const outcomes = buildEditedDomainXml(planDomain(news, undefined, new Map())).edits;
    return `: ${withoutSecret(describeOutcomes(outcomes), news.graphicsPassword)}`;
  } catch {
    return ""; // check() has refused these inputs already
  }
}

/** `text` with `secret` masked, as written, as XML escapes it and as JSON quotes it. */
function withoutSecret(text: string, secret: string | undefined): string {
  if (!secret) return text;
  const forms = [secret, escapeXml(secret), JSON.stringify(secret).slice(1, -1)];
  return forms.reduce((shown, form) => shown.split(form).join("***"), text);
}

function escapeXml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}
