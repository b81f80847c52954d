import { ErrorCode, ErrorDomain, LibvirtError } from "../../rpc";
import {
  NotFoundError,
  givenState,
  looksLikeUuid,
  lookupByUuidOrName,
  readsFromNothing,
} from "./get";

const UUID = "6f1c2d3e-4b5a-4c6d-8e7f-001122334455";

function libvirtError(code: ErrorCode): LibvirtError {
  return new LibvirtError({
    code,
    domain: ErrorDomain.STORAGE,
    message: "no such thing",
    level: 2,
    ...{ str1: null, str2: null, str3: null, int1: 0, int2: 0 },
  });
}

describe("telling a Get from a refresh", () => {
  it("is a Get when the props hold only what a program passes", () => {
    const props = { __kind: "Pool", __logicalName: "p", __urn: "urn:x", __provider: "…" };
    expect(readsFromNothing("Pool", props)).toBe(true);
    expect(readsFromNothing("Pool", { ...props, host: "kvm1", name: "images" })).toBe(true);
  });

  it("is a refresh when the props hold any output of an earlier step", () => {
    expect(readsFromNothing("Pool", { __kind: "Pool", uuid: UUID })).toBe(false);
    expect(readsFromNothing("Volume", { __kind: "Volume", key: "/v/a.raw" })).toBe(false);
    expect(readsFromNothing("Network", { __kind: "Network", bridgeName: "virbr3" })).toBe(false);
  });

  it("is never a Get for a kind the schema does not know", () => {
    expect(readsFromNothing("Thing", {})).toBe(false);
  });

  it("passes the program's state on without the hidden keys and unset values", () => {
    expect(givenState({ __kind: "Pool", __urn: "urn:x", host: "kvm1", pool: null })).toEqual({
      host: "kvm1",
    });
  });
});

describe("an id that may be a UUID or a name", () => {
  it("looks like a UUID with or without dashes, in either case", () => {
    expect(looksLikeUuid(UUID)).toBe(true);
    expect(looksLikeUuid(UUID.replace(/-/g, "").toUpperCase())).toBe(true);
    expect(looksLikeUuid("lab-1907eab")).toBe(false);
  });

  it("is looked up by UUID first", async () => {
    const asked: string[] = [];
    const found = await lookupByUuidOrName(
      UUID,
      async (uuid) => (asked.push(`uuid ${uuid.toString("hex")}`), "by uuid"),
      async (name) => (asked.push(`name ${name}`), "by name"),
    );
    expect(found).toBe("by uuid");
    expect(asked).toEqual([`uuid ${UUID.replace(/-/g, "")}`]);
  });

  it("is looked up by name when no object has it as UUID", async () => {
    const found = await lookupByUuidOrName(
      UUID,
      async () => {
        throw libvirtError(ErrorCode.NO_STORAGE_POOL);
      },
      async (name) => `named ${name}`,
    );
    expect(found).toBe(`named ${UUID}`);
  });

  it("is never parsed as a UUID when it is a name", async () => {
    const byUuid = jest.fn();
    expect(await lookupByUuidOrName("lab-1907eab", byUuid, async (name) => name)).toBe(
      "lab-1907eab",
    );
    expect(byUuid).not.toHaveBeenCalled();
  });

  it("finds nothing when libvirt has neither", async () => {
    const missing = async (): Promise<string> => {
      throw libvirtError(ErrorCode.NO_NETWORK);
    };
    expect(await lookupByUuidOrName(UUID, missing, missing)).toBeUndefined();
  });

  it("fails with libvirt's error for anything but not found", async () => {
    const denied = async (): Promise<string> => {
      throw libvirtError(ErrorCode.AUTH_FAILED);
    };
    await expect(lookupByUuidOrName("lab", denied, denied)).rejects.toThrow("no such thing");
  });

  it("not found names the kind, the id and what is accepted", () => {
    expect(new NotFoundError("network", "lab", "UUID or name", " (virsh net-list)").message).toBe(
      'no network has the UUID or name "lab" (virsh net-list)',
    );
  });
});
