import { readFileSync } from "node:fs";
import * as path from "node:path";
import { checkConfig, diffConfig, fromInputs, fromVariables } from "./provider-config";
import { importInputs, kindOf } from "./resources";
import { pluginSchema } from "./schema";

describe("the plugin's provider configuration", () => {
  it("reads Configure's variables as the stack config's keys, without the engine's own", () => {
    const values = fromVariables([
      ["virtwire:config:uri", "qemu:///system"],
      ["virtwire:config:hosts", '{"kvm2":{"uri":"qemu+ssh://root@kvm2/system"}}'],
      ["virtwire:config:version", "0.1.0"],
    ]);
    expect(values).toEqual({
      "virtwire:uri": "qemu:///system",
      "virtwire:hosts": '{"kvm2":{"uri":"qemu+ssh://root@kvm2/system"}}',
    });
  });

  it("takes a provider's hosts as an object or as JSON text, and numbers as text", () => {
    const hosts = { kvm2: { uri: "qemu+ssh://root@kvm2/system" } };
    expect(fromInputs({ hosts, callTimeout: 30 })).toEqual({
      "virtwire:hosts": JSON.stringify(hosts),
      "virtwire:callTimeout": "30",
    });
    expect(checkConfig({ hosts, callTimeout: 30 })).toEqual([]);
  });

  it("refuses a misspelt setting by name, never echoing a value", () => {
    const [failure] = checkConfig({ uri: "qemu:///system", pasword: "s3cret-value" });
    expect(failure?.reason).toMatch(
      /^virtwire:pasword is not a virtwire setting \(did you mean "password"\?\)/,
    );
    expect(failure?.reason).not.toContain("s3cret-value");
  });

  it("leaves a setting not known yet to Configure", () => {
    expect(checkConfig({ password: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" })).toEqual([]);
  });

  it("names the changed settings, a rotated password and host key pin included", () => {
    const olds = {
      uri: "qemu+ssh://kvm1/system",
      password: "a",
      sshHostKeyFingerprint: "SHA256:x",
      version: "1",
    };
    const news = {
      uri: "qemu+ssh://kvm1/system",
      password: "b",
      sshHostKeyFingerprint: "SHA256:y",
      version: "2",
    };
    expect(diffConfig(olds, news)).toEqual({ changed: ["password", "sshHostKeyFingerprint"] });
    expect(diffConfig(olds, olds)).toEqual({ changed: [] });
  });
});

describe("the plugin's resources", () => {
  it("knows the kind from the URN's type, also under a parent", () => {
    expect(kindOf("urn:pulumi:dev::lab::virtwire:index:Domain::vm1")).toBe("Domain");
    expect(kindOf("urn:pulumi:dev::lab::my:Component$virtwire:index:Pool::p")).toBe("Pool");
    expect(kindOf("urn:pulumi:dev::lab::pulumi-nodejs:dynamic/virtwire:Pool::p")).toBeUndefined();
  });

  it("imports the input properties libvirt reports, without schema defaults or outputs", () => {
    const inputs = importInputs("Pool", {
      name: "images",
      type: "dir",
      targetPath: "/var/lib/libvirt/images",
      autostart: true,
      uuid: "5b1f…",
      capacity: 1024,
    });
    expect(inputs).toEqual({ name: "images", type: "dir", targetPath: "/var/lib/libvirt/images" });
  });
});

describe("the plugin's schema", () => {
  const text = readFileSync(path.join(__dirname, "../../schema.json"), "utf8");
  const schema = JSON.parse(pluginSchema(text, "1.2.3"));

  it("describes the explicit provider with the stack config's settings, not the SDK's switch", () => {
    expect(schema.version).toBe("1.2.3");
    expect(Object.keys(schema.provider.inputProperties)).toContain("password");
    expect(schema.provider.inputProperties.password.secret).toBe(true);
    expect(schema.provider.inputProperties.plugin).toBeUndefined();
  });

  it("derives the provider from `config`, which schema.json holds once, with no section of its own", () => {
    expect(JSON.parse(text).provider).toBeUndefined();
    const { plugin, ...settings } = JSON.parse(text).config.variables;
    expect(plugin).toBeDefined();
    expect(Object.keys(schema.provider.inputProperties)).toEqual(Object.keys(settings));
    // The hosts' entries hold passwords and keys: the map is a secret as a whole.
    expect(settings.hosts.secret).toBeUndefined();
    expect(schema.provider.inputProperties.hosts.secret).toBe(true);
  });

  it("has constant defaults only, as Pulumi's schema allows", () => {
    const defaults: unknown[] = [];
    const visit = (value: unknown): void => {
      if (typeof value !== "object" || value === null) return;
      for (const [key, item] of Object.entries(value)) {
        if (key === "default") defaults.push(item);
        visit(item);
      }
    };
    visit(schema);
    expect(defaults.filter((value) => typeof value === "object")).toEqual([]);
  });
});
