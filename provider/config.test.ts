import { ConfigError, hostSettings, readSettings } from "./config";

const config = (values: Record<string, string>) => ({ get: (key: string) => values[key] });

describe("stack configuration", () => {
  it("uses virtwire:uri, else LIBVIRT_DEFAULT_URI, else qemu:///system", () => {
    expect(
      readSettings(config({ "virtwire:uri": "qemu+ssh://kvm1/system" }), {}).defaultHost.uri,
    ).toBe("qemu+ssh://kvm1/system");
    expect(
      readSettings(config({}), { LIBVIRT_DEFAULT_URI: "qemu:///session" }).defaultHost.uri,
    ).toBe("qemu:///session");
    expect(readSettings(config({}), {}).defaultHost.uri).toBe("qemu:///system");
  });

  it("reads named hosts and picks them by name", () => {
    const settings = readSettings(
      config({
        "virtwire:hosts": JSON.stringify({
          kvm1: { uri: "qemu+tls://kvm1/system", username: "u" },
        }),
      }),
      {},
    );
    expect(hostSettings(settings, "kvm1")).toMatchObject({
      name: "kvm1",
      uri: "qemu+tls://kvm1/system",
      username: "u",
    });
    expect(hostSettings(settings, undefined).name).toBe("default");
  });

  it("explains an unknown host and how to add it", () => {
    const settings = readSettings(config({}), {});
    expect(() => hostSettings(settings, "kvm9")).toThrow(
      "host \"kvm9\" is not configured: add it with pulumi config set --path 'virtwire:hosts.kvm9.uri' <libvirt URI>",
    );
  });

  it.each([
    ["not json", /must be a map/],
    ['{"kvm1": {}}', /hosts.kvm1.uri is missing/],
    ['{"kvm1": {"uri": "qemu:///system", "pasword": "x"}}', /unknown setting "pasword"/],
  ])("refuses virtwire:hosts = %s", (text, message) => {
    expect(() => readSettings(config({ "virtwire:hosts": text }), {})).toThrow(ConfigError);
    expect(() => readSettings(config({ "virtwire:hosts": text }), {})).toThrow(message);
  });

  it("never puts a password into an error message", () => {
    try {
      readSettings(
        config({ "virtwire:hosts": '{"kvm1": {"uri": "", "password": "hunter2"}}' }),
        {},
      );
    } catch (error) {
      expect((error as Error).message).not.toContain("hunter2");
    }
  });
});
