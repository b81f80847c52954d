import { domainSnapshotHandlers as handlers } from "./handlers";
import { ConnectionClosedError, ErrorCode, ErrorDomain, LibvirtError } from "../../rpc";
import type { Libvirt } from "../../rpc";
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

describe("DomainSnapshot's read and delete when the daemon cannot be asked", () => {
  const id = "0c5b3a1e-6a4c-4f4e-9b7e-2d1f0a9b8c7d/s";
  const props = fillDefaults("DomainSnapshot", {
    domain: "vm",
    name: "s",
  }) as unknown as DomainSnapshotOutputs;
  const noDomain = new LibvirtError({
    code: ErrorCode.NO_DOMAIN,
    domain: ErrorDomain.QEMU,
    message: "Domain not found",
    level: 2,
    str1: null,
    str2: null,
    str3: null,
    int1: -1,
    int2: -1,
  });
  const answering = (error: Error) => {
    const lv = { DomainLookupByUUID: () => Promise.reject(error) };
    return {
      connect: () => Promise.resolve(lv as unknown as Libvirt),
      virsh: () => "virsh",
      log: () => undefined,
      warn: () => undefined,
      status: () => undefined,
    };
  };

  it("reads a snapshot whose domain libvirt says is gone as gone", async () => {
    await expect(handlers.read!(id, props, answering(noDomain))).resolves.toBeUndefined();
  });

  it("fails a refresh when the connection fails, instead of dropping the snapshot", async () => {
    const lost = new ConnectionClosedError("connection closed");
    await expect(handlers.read!(id, props, answering(lost))).rejects.toBe(lost);
  });

  it("fails a delete when the connection fails, instead of reporting it deleted", async () => {
    const lost = new ConnectionClosedError("connection closed");
    await expect(handlers.delete!(id, props, answering(lost))).rejects.toBe(lost);
  });
});
