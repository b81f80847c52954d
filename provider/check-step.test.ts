import { createProvider } from "./dispatch";
import { pluginLine } from "./report-once";
import type { CheckFailure, ResourceHandlers } from "../resources/kit/resource";

type Props = Record<string, unknown>;

/** A Pool-shaped kind (schema.json's Pool) with the given rules; nothing asks a host. */
function pools(rules: (inputs: Props) => CheckFailure[] = () => []) {
  const handlers: ResourceHandlers<Props, Props> = {
    check: rules,
    create: async () => ({ id: "id", outs: {} }),
    get: async () => ({ id: "id", outs: {} }),
    read: async () => undefined,
    update: async () => ({}),
    delete: async () => undefined,
    diff: () => {
      throw new Error("capacity only grows");
    },
  };
  const registry = { handlers: { Pool: handlers }, nouns: { Pool: "pool" } };
  return { provider: createProvider(registry, { askHosts: false }) };
}

const pool = (fields: Props = {}) => ({
  __kind: "Pool",
  __logicalName: "images",
  type: "dir",
  targetPath: "/srv/images",
  ...fields,
});

describe("check as the engine sees it", () => {
  it("gives one line per problem, path first, and no property whose value the engine would dump", async () => {
    const { provider } = pools();
    const { failures } = await provider.check!({}, pool({ permissions: { mode: "9", owner: -1 } }));
    expect(failures).toEqual([
      {
        property: "",
        reason:
          'permissions.mode "9" is not valid: use octal permission bits from 000 to 777, such as "0755"',
      },
      { property: "", reason: "permissions.owner must be at least 0; got -1" },
    ]);
  });

  it("puts the path before a reason that does not start with it", async () => {
    const { provider } = pools(() => [{ property: "source.devices", reason: "needs a device" }]);
    const { failures } = await provider.check!({}, pool({ name: "a/b" }));
    expect(failures!.map((f) => f.reason)).toEqual([
      expect.stringMatching(/^name "a\/b" is not valid/),
    ]);
    const rules = await provider.check!({}, pool());
    expect(rules.failures).toEqual([{ property: "", reason: "source.devices: needs a device" }]);
  });

  it("runs the kind's rules beside a property too many", async () => {
    const { provider } = pools(() => [{ property: "source", reason: "source is wrong" }]);
    const { failures } = await provider.check!({}, pool({ autostrat: true }));
    expect(failures!.map((f) => f.reason)).toEqual([
      'autostrat is not a property of Pool; did you mean "autostart"?',
      "source is wrong",
    ]);
  });

  it("refuses a host that is not in virtwire:hosts, and settings that cannot be read", async () => {
    const { provider } = pools();
    const unknownHost = await provider.check!({}, pool({ host: "kvm9" }));
    expect(unknownHost.failures![0]!.reason).toMatch(/^host "kvm9" is not configured/);

    const misconfigured = pools().provider;
    const config = { get: () => undefined, rawConfig: { "virtwire:hsots": "{}" } };
    await misconfigured.configure({ config });
    const { failures } = await misconfigured.check!({}, pool());
    expect(failures).toEqual([
      {
        property: "",
        reason: expect.stringMatching(
          /^virtwire:hsots is not a virtwire setting \(did you mean "hosts"\?\)/,
        ),
      },
    ]);
  });
});

describe("a thrown error", () => {
  it("is described with the resource and printed once: the plugin's stderr copy is dropped", async () => {
    const { provider } = pools();
    const printed = jest.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const error = await provider.diff!("id", pool(), pool()).catch((e: Error) => e);
      expect((error as Error).message).toBe(
        "Planning the change of pool failed: capacity only grows",
      );
      // What @pulumi/pulumi's dynamic-provider plugin does with it before answering:
      console.error(pluginLine(error as Error));
      console.error("another line");
      expect(printed.mock.calls).toEqual([["another line"]]);
    } finally {
      printed.mockRestore();
    }
  });
});
