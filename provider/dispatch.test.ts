import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { ErrorCode, ErrorDomain, LibvirtError } from "../rpc";
import { createProvider, plainValue } from "./dispatch";
import { LeftBehindError } from "../resources/kit/leftovers";
import { NotFoundError } from "../resources/kit/get";
import { pluginLine } from "./report-once";
import type { ResourceContext, ResourceHandlers } from "../resources/kit/resource";

/** What a Network handler returned before the fix: a DHCP-less address with nested undefined. */
const nested = {
  name: "lab",
  addresses: [{ address: "10.0.0.1", prefix: 24, dhcp: undefined }],
  hosts: [undefined, { mac: "52:54:00:00:00:01", name: undefined }],
  expiry: 1700000000n,
  huge: 2n ** 64n,
};

describe("outputs crossing to the engine", () => {
  it("survive the plugin's Struct conversion at every depth", () => {
    expect(() => Struct.fromJavaScript(nested as never)).toThrow("Unexpected struct type");
    const plain = plainValue(nested) as Record<string, unknown>;
    expect(() => Struct.fromJavaScript(plain as never)).not.toThrow();
    expect(plain).toEqual({
      name: "lab",
      addresses: [{ address: "10.0.0.1", prefix: 24 }],
      hosts: [null, { mac: "52:54:00:00:00:01" }],
      expiry: 1700000000,
      huge: "18446744073709551616",
    });
  });

  it("are made plain by create, read and update, with the kind beside them", async () => {
    const handlers: ResourceHandlers<Record<string, unknown>, Record<string, unknown>> = {
      create: async () => ({ id: "id-1", outs: nested }),
      get: async () => ({ id: "id-1", outs: nested }),
      read: async () => nested,
      update: async () => nested,
      delete: async () => undefined,
    };
    const provider = createProvider({ handlers: { Thing: handlers }, nouns: { Thing: "thing" } });
    const inputs = { __kind: "Thing", name: "lab" };
    const results = [
      (await provider.create(inputs)).outs,
      (await provider.read!("id-1", inputs)).props,
      (await provider.update!("id-1", inputs, inputs)).outs,
    ];
    for (const outs of results) {
      expect(outs).toMatchObject({ __kind: "Thing", addresses: [{ address: "10.0.0.1" }] });
      expect(() => Struct.fromJavaScript(outs as never)).not.toThrow();
    }
  });
});

describe("check and create around leftovers", () => {
  const provider = (create: ResourceHandlers<object, object>["create"]) =>
    // Unit tests reach no libvirt: check does not connect to the host.
    createProvider(
      {
        handlers: {
          Pool: {
            create,
            get: async () => ({ id: "1", outs: {} }),
            read: async () => ({}),
            update: async () => ({}),
            delete: async () => {},
          },
        },
        nouns: { Pool: "storage pool" },
      },
      { askHosts: false },
    );
  const news = { __kind: "Pool", __logicalName: "images", type: "dir", targetPath: "/x" };

  it("calls a create fresh when check saw no old inputs, and not when it did", async () => {
    const p = provider(async () => ({ id: "1", outs: {} }));
    const first = (await p.check!({}, news)).inputs;
    expect(first.__fresh).toBe(true);
    expect((await p.check!(first, news)).inputs.__fresh).toBe(false);
  });

  it("gives handlers the owner from the hidden inputs", async () => {
    const seen: unknown[] = [];
    const p = provider(async (_inputs, ctx) => {
      seen.push(ctx.owner);
      return { id: "1", outs: {} };
    });
    const urn = "urn:pulumi:dev::lab::pulumi-nodejs:dynamic/virtwire:Pool::images";
    await p.create({ ...news, name: "images-1", __urn: urn, __fresh: true });
    await p.create({ ...news, name: "images-1" });
    expect(seen).toEqual([{ urn, mark: urn, fresh: true }, undefined]);
  });

  it("says what a failed create left behind after libvirt's own error", async () => {
    const libvirtError = new LibvirtError({
      code: ErrorCode.OPERATION_FAILED,
      domain: ErrorDomain.STORAGE,
      message: "no",
      level: 2,
      ...{ str1: null, str2: null, str3: null, int1: 0, int2: 0 },
    });
    const p = provider(async () => {
      throw new LeftBehindError(libvirtError, "Left behind: storage pool images-1");
    });
    await expect(p.create({ ...news, name: "images-1" })).rejects.toThrow(
      "Creating storage pool images-1 failed: no (VIR_ERR_OPERATION_FAILED, VIR_FROM_STORAGE). Left behind: storage pool images-1",
    );
  });

  it('names no host for a resource on host "", the default one', async () => {
    const p = provider(async () => {
      throw new Error("no");
    });
    await expect(p.create({ ...news, name: "images-1", host: "" })).rejects.toThrow(
      /^Creating storage pool images-1 failed: no$/,
    );
    await expect(p.create({ ...news, name: "images-1", host: "kvm2" })).rejects.toThrow(
      /^Creating storage pool images-1 on host kvm2 failed: no$/,
    );
  });
});

describe("a read with nothing known before (Kind.get)", () => {
  const calls: string[] = [];
  const handlers: ResourceHandlers<Record<string, unknown>, Record<string, unknown>> = {
    create: async () => ({ id: "1", outs: {} }),
    get: async (id, state) => {
      calls.push(`get ${id} ${JSON.stringify(state)}`);
      if (id === "missing") throw new NotFoundError("storage pool", id, "UUID or name");
      return { id: "6f1c2d3e-0000-4000-8000-000000000001", outs: { name: id, uuid: "…" } };
    },
    read: async (id) => {
      calls.push(`read ${id}`);
      return { name: "images" };
    },
    update: async () => ({}),
    delete: async () => undefined,
  };
  const provider = createProvider({
    handlers: { Pool: handlers },
    nouns: { Pool: "storage pool" },
  });
  beforeEach(() => calls.splice(0));

  it("asks the kind's get with what the program passed, and answers with the id get found", async () => {
    const props = { __kind: "Pool", __logicalName: "imported", __urn: "urn:x", host: "kvm1" };
    const result = await provider.read!("images", props);
    expect(calls).toEqual([`get images {"host":"kvm1"}`]);
    expect(result).toEqual({
      id: "6f1c2d3e-0000-4000-8000-000000000001",
      props: { __kind: "Pool", name: "images", uuid: "…" },
    });
  });

  it("reads as a refresh when the props hold the outputs of an earlier step", async () => {
    const outputs = { __kind: "Pool", name: "images", uuid: "6f1c2d3e-…", capacity: 1 };
    await provider.read!("6f1c2d3e-…", outputs);
    expect(calls).toEqual(["read 6f1c2d3e-…"]);
  });

  it("fails naming the kind, the id given and what is accepted, printed once", async () => {
    const printed = jest.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const error = await provider.read!("missing", { __kind: "Pool" }).catch((e: Error) => e);
      expect((error as Error).message).toBe(
        'Reading storage pool failed: no storage pool has the UUID or name "missing"',
      );
      // What the plugin prints before answering, with the stack: left out.
      console.error(pluginLine(error as Error));
      expect(printed).not.toHaveBeenCalled();
    } finally {
      printed.mockRestore();
    }
  });
});

describe("the diff a refresh asks for", () => {
  /** A kind whose diff records whether it was told it serves a refresh. */
  const recording = () => {
    const told: (boolean | undefined)[] = [];
    const handlers: ResourceHandlers<Record<string, unknown>, Record<string, unknown>> = {
      create: async () => ({ id: "id-1", outs: {} }),
      get: async () => ({ id: "id-1", outs: {} }),
      read: async () => ({ name: "lab", autostart: true, sizes: [1, 2] }),
      update: async () => ({}),
      delete: async () => undefined,
      diff: (_id, _olds, _news, ctx?: ResourceContext) => {
        told.push(ctx?.refresh);
        return { changes: true, replaces: [] };
      },
    };
    const provider = createProvider({ handlers: { Thing: handlers }, nouns: { Thing: "thing" } });
    return { provider, told };
  };
  const news = { __kind: "Thing", name: "lab", autostart: false };

  /**
   * What the engine hands diff after a refresh: read's props, to which the plugin adds
   * `__provider` (resultIncludingProvider, in place), through a Struct.
   */
  const asEngineHasThem = (props: Record<string, unknown>) =>
    Struct.fromJavaScript(
      Object.assign(props, { __provider: "exports.handler = …" }) as never,
    ).toJavaScript();

  it("is told so when its olds are what read just returned, once", async () => {
    const { provider, told } = recording();
    const { props } = await provider.read!("id-1", news);
    const olds = asEngineHasThem(props!);
    await provider.diff!("id-1", olds, news);
    await provider.diff!("id-1", olds, news);
    expect(told).toEqual([true, undefined]);
  });

  it("is not told so for other olds, or another resource", async () => {
    const { provider, told } = recording();
    const { props } = await provider.read!("id-1", news);
    await provider.diff!("id-2", asEngineHasThem(props!), news);
    await provider.diff!("id-1", asEngineHasThem({ ...props, autostart: false }), news);
    expect(told).toEqual([undefined, undefined]);
  });
});
