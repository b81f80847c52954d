import provider from "./index";
import { createProvider } from "./dispatch";
import { registry } from "../resources/registry";

describe("virtwire/provider, the object built on its first call", () => {
  it("has exactly the methods of the provider createProvider builds", () => {
    const built = createProvider(registry, { askHosts: false, log: undefined });
    expect(Object.keys(provider).sort()).toEqual(Object.keys(built).sort());
    for (const name of Object.keys(provider)) {
      expect(typeof (provider as unknown as Record<string, unknown>)[name]).toBe("function");
    }
  });

  it("answers a call as the built provider does", async () => {
    await expect(provider.check!({}, { __kind: "NoSuchKind" })).rejects.toThrow(
      /does not know the resource kind "NoSuchKind"/,
    );
  });
});
