/**
 * Secret rules beyond the schema: a usage type needs its usage id (and `none` takes none), a
 * volume's is an absolute path, and the value must fit libvirt and its encoding.
 */
import { UNKNOWN } from "../kit/check";
import type { CheckedSecretInputs } from "../kit/generated/checked";
import type { CheckFailure } from "../kit/resource";
import { valueProblem } from "./value";

export function checkSecret(inputs: CheckedSecretInputs): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const { usageType, usageId, value, valueEncoding } = inputs;
  const given = usageId !== undefined && usageId !== null;
  if (usageType === "none" && given) {
    failures.push({
      property: "usageId",
      reason:
        "usageId is set but usageType is none: set usageType (volume, ceph, iscsi, tls or vtpm), or remove usageId",
    });
  } else if (usageType !== "none" && (usageType as string) !== UNKNOWN && !given) {
    failures.push({
      property: "usageId",
      reason: `a secret with usageType ${usageType} needs usageId (${usageType === "volume" ? "the volume's path" : "a name of your choice that the configuration using the secret refers to"})`,
    });
  } else if (usageType === "volume" && usageId !== UNKNOWN && !usageId!.startsWith("/")) {
    failures.push({
      property: "usageId",
      reason: "usageId of a volume secret is the volume's absolute path, e.g. `volume.path`",
    });
  }
  if (typeof value === "string" && value !== UNKNOWN && (valueEncoding as string) !== UNKNOWN) {
    const problem = valueProblem(value, valueEncoding);
    if (problem) failures.push({ property: "value", reason: problem });
  }
  return failures;
}
