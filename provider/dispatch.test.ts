import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { createProvider, plainValue } from "./dispatch";
import type { ResourceHandlers } from "./resource";

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
