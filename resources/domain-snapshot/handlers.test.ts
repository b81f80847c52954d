import { domainSnapshotHandlers as handlers } from "./handlers";
import { fillDefaults } from "../kit/check";
import type { DomainSnapshotInputs, DomainSnapshotOutputs } from "../kit/generated/types";

describe("DomainSnapshot's diff", () => {
  const inputs = fillDefaults("DomainSnapshot", {
    domain: "vm",
    name: "s",
  }) as DomainSnapshotInputs;
  const outputs = {
    ...inputs,
    domainUuid: "u",
    creationTime: 1,
    state: "running",
    current: true,
    overlays: [],
  } as DomainSnapshotOutputs;
  const warnings: string[] = [];
  const ctx = {
    connect: () => Promise.reject(new Error("no")),
    virsh: () => "virsh",
    log: () => undefined,
    warn: (line: string) => warnings.push(line),
    status: () => undefined,
  };

  it("updates in place for a new revert value, and warns what the up will do", async () => {
    const result = await handlers.diff!("id", outputs, { ...inputs, revert: "1" }, ctx);
    expect(result).toMatchObject({ changes: true, replaces: [], changed: ["revert"] });
    expect(warnings).toEqual([
      "virtwire: revert changed: pulumi up reverts domain vm to snapshot s; what changed in it since is lost",
    ]);
  });

  it("replaces the snapshot, the old one first, for any other change", async () => {
    const result = await handlers.diff!("id", outputs, { ...inputs, kind: "external" }, ctx);
    expect(result).toMatchObject({ replaces: ["kind"], deleteBeforeReplace: true });
  });
});
