import { generateKeyPairSync } from "node:crypto";
import {
  CONFIG_KEYS,
  ConfigError,
  deadline,
  hostSettings,
  numberSetting,
  readSettings,
  setCommand,
} from "./config";

const config = (values: Record<string, string>) => ({ get: (key: string) => values[key] });
/** The plugin's Config object, which also keeps the whole stack config as `rawConfig`. */
const pluginConfig = (values: Record<string, string>) => ({
  rawConfig: values,
  get: (key: string) => values[key],
});

const PRINT = "SHA256:" + "A".repeat(43);
const OTHER_PRINT = "SHA256:" + "b".repeat(42) + "+";
const CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const KEY = generateKeyPairSync("ed25519")
  .privateKey.export({ type: "pkcs8", format: "pem" })
  .toString();

function configError(values: Record<string, string>): ConfigError {
  try {
    readSettings(pluginConfig(values), {});
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("readSettings accepted the config");
}

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

  it("reads every credential key of the default host", () => {
    const { defaultHost } = readSettings(
      config({
        "virtwire:uri": "qemu+tls://kvm1/system",
        "virtwire:username": "admin",
        "virtwire:password": "pw",
        "virtwire:sshPrivateKey": KEY,
        "virtwire:sshPrivateKeyPassphrase": "pp",
        "virtwire:sshPassword": "sp",
        "virtwire:sshHostKeyFingerprint": `${PRINT}, ${OTHER_PRINT}`,
        "virtwire:sshKnownHosts": "/k",
        "virtwire:tlsCaCert": CERT,
        "virtwire:tlsClientCert": CERT,
        "virtwire:tlsClientKey": KEY,
        "virtwire:authFile": "/a",
      }),
      {},
    );
    expect(defaultHost).toEqual({
      name: "default",
      uri: "qemu+tls://kvm1/system",
      username: "admin",
      password: "pw",
      sshPrivateKey: KEY,
      sshPrivateKeyPassphrase: "pp",
      sshPassword: "sp",
      sshHostKeyFingerprint: [PRINT, OTHER_PRINT],
      sshKnownHosts: "/k",
      tlsCaCert: CERT,
      tlsClientCert: CERT,
      tlsClientKey: KEY,
      authFile: "/a",
    });
  });

  it("reads named hosts with the same keys and picks them by name", () => {
    const settings = readSettings(
      config({
        "virtwire:hosts": JSON.stringify({
          kvm1: { uri: "qemu+tls://kvm1/system", username: "u" },
          kvm2: { uri: "qemu+ssh://kvm2/system", sshHostKeyFingerprint: [PRINT, OTHER_PRINT] },
        }),
      }),
      {},
    );
    expect(hostSettings(settings, "kvm1")).toMatchObject({
      name: "kvm1",
      uri: "qemu+tls://kvm1/system",
      username: "u",
    });
    expect(hostSettings(settings, "kvm2").sshHostKeyFingerprint).toEqual([PRINT, OTHER_PRINT]);
    expect(hostSettings(settings, undefined).name).toBe("default");
    expect(hostSettings(settings, "default").name).toBe("default");
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
    [
      '{"kvm1": {"uri": "qemu:///system", "pasword": "x"}}',
      /unknown setting "pasword" \(did you mean "password"\?\)/,
    ],
    ['{"default": {"uri": "qemu:///system"}}', /cannot have an entry named "default"/],
    ['{"kvm1": {"uri": 7}}', /virtwire:hosts.kvm1.uri must be a string/],
    ['{"kvm1": []}', /hosts.kvm1 must be an object/],
  ])("refuses virtwire:hosts = %s", (text, message) => {
    expect(() => readSettings(config({ "virtwire:hosts": text }), {})).toThrow(ConfigError);
    expect(() => readSettings(config({ "virtwire:hosts": text }), {})).toThrow(message);
  });

  describe("the rule: a key that is set but empty is an error naming the key", () => {
    it.each(CONFIG_KEYS.map((key) => [key]))("virtwire:%s", (key) => {
      const error = configError({ [`virtwire:${key}`]: key === "hosts" ? "" : "  " });
      expect(error.message).toContain(`virtwire:${key} is set but empty`);
      expect(error.message).toContain(`pulumi config rm virtwire:${key}`);
    });

    it("inside a virtwire:hosts entry", () => {
      const error = configError({
        "virtwire:hosts": JSON.stringify({ kvm1: { uri: "qemu:///system", password: "" } }),
      });
      expect(error.message).toBe(
        "virtwire:hosts.kvm1.password is set but empty; virtwire never sends an empty credential or setting: give it a value, or remove it with pulumi config rm --path 'virtwire:hosts.kvm1.password'",
      );
    });

    it("a fingerprint list with no fingerprint in it", () => {
      expect(configError({ "virtwire:sshHostKeyFingerprint": " , " }).message).toContain(
        "virtwire:sshHostKeyFingerprint is set but empty",
      );
    });
  });

  it("refuses a misspelt virtwire: key when the plugin shows the whole config", () => {
    const error = configError({ "virtwire:sshPrivatekey": "x", "other:key": "y" });
    expect(error.message).toMatch(
      /^virtwire:sshPrivatekey is not a virtwire setting \(did you mean "sshPrivateKey"\?\); known settings: virtwire:uri, /,
    );
    expect(error.message).not.toContain("x;");
  });

  it("wants PEM text, not a file name, for keys and certificates", () => {
    const error = configError({ "virtwire:tlsClientKey": "/home/me/.pki/clientkey.pem" });
    expect(error.message).toBe(
      "virtwire:tlsClientKey must hold the private key itself (PEM text starting with -----BEGIN …), not a file name; set it from the file with pulumi config set --secret virtwire:tlsClientKey < <file>",
    );
    expect(configError({ "virtwire:tlsCaCert": KEY }).message).toContain(
      "virtwire:tlsCaCert must hold the certificate itself",
    );
    expect(configError({ "virtwire:sshPrivateKey": "~/.ssh/id_ed25519" }).message).toContain(
      "virtwire:sshPrivateKey must hold the private key itself",
    );
  });

  it("wants a client certificate and its key together", () => {
    expect(configError({ "virtwire:tlsClientCert": CERT }).message).toBe(
      "virtwire:tlsClientCert is set but virtwire:tlsClientKey is not: a client certificate needs its private key; set it with pulumi config set --secret virtwire:tlsClientKey < <file>",
    );
    expect(
      configError({
        "virtwire:hosts": JSON.stringify({ k: { uri: "qemu+tls://k/system", tlsClientKey: KEY } }),
      }).message,
    ).toMatch(/^virtwire:hosts.k.tlsClientKey is set but virtwire:hosts.k.tlsClientCert is not/);
  });

  it("accepts only SHA256 fingerprints, and says which entry is wrong", () => {
    const error = configError({
      "virtwire:sshHostKeyFingerprint": `${PRINT},MD5:12:34:56`,
    });
    expect(error.message).toMatch(
      /^virtwire:sshHostKeyFingerprint: entry 2 is not a SHA256 fingerprint; give SHA256: and 43 base64 characters/,
    );
  });

  it("says how to set each key, with --secret for secrets", () => {
    expect(setCommand("default", "password")).toBe(
      "pulumi config set --secret virtwire:password <value>",
    );
    expect(setCommand("kvm1", "uri", "qemu:///system")).toBe(
      "pulumi config set --path 'virtwire:hosts.kvm1.uri' qemu:///system",
    );
  });

  it("never puts a secret value into an error message", () => {
    const secretValue = "hunter2-" + "s".repeat(8);
    const attempts: Record<string, string>[] = [
      { "virtwire:hosts": `{"kvm1": {"uri": "", "password": "${secretValue}"}}` },
      { "virtwire:hosts": `{"kvm1": {"uri": "qemu:///system", "password": "${secretValue}"` },
      { "virtwire:hosts": `{"kvm1": {"uri": "qemu:///system", "pasword": "${secretValue}"}}` },
      { "virtwire:tlsClientKey": secretValue },
      { "virtwire:sshPrivateKey": secretValue },
      { "virtwire:sshHostKeyFingerprint": secretValue },
      { "virtwire:pasword": secretValue },
    ];
    for (const values of attempts) {
      expect(configError(values).message).not.toContain(secretValue);
    }
  });
});

describe("deadlines in the stack config", () => {
  it("reads virtwire:callTimeout, longCallTimeout and streamIdleTimeout as seconds, 0 included", () => {
    const { defaultHost } = readSettings(
      config({
        "virtwire:callTimeout": "600",
        "virtwire:longCallTimeout": "7200",
        "virtwire:streamIdleTimeout": "0",
      }),
      {},
    );
    expect(defaultHost).toMatchObject({
      callTimeout: 600,
      longCallTimeout: 7200,
      streamIdleTimeout: 0,
    });
  });

  it("leaves them unset when not given, for schema.json's defaults to apply", () => {
    const { defaultHost } = readSettings(config({}), {});
    expect(deadline(defaultHost, "callTimeout")).toBe(300);
    expect(deadline(defaultHost, "longCallTimeout")).toBe(3600);
    expect(deadline(defaultHost, "streamIdleTimeout")).toBe(300);
  });

  it("takes a number or a numeric string in a virtwire:hosts entry", () => {
    const { hosts } = readSettings(
      config({
        "virtwire:hosts": JSON.stringify({
          kvm1: { uri: "qemu:///system", callTimeout: 30, streamIdleTimeout: "45" },
        }),
      }),
      {},
    );
    expect(hosts.kvm1).toMatchObject({ callTimeout: 30, streamIdleTimeout: 45 });
    expect(hosts.kvm1!.longCallTimeout).toBeUndefined();
  });

  it.each(["-1", "1.5", "5m", "2147484", "0x10"])(
    "refuses %p, naming the key and the default",
    (value) => {
      expect(configError({ "virtwire:callTimeout": value }).message).toBe(
        "virtwire:callTimeout must be a whole number of seconds up to 2147483, or 0 to wait " +
          "forever; remove it (pulumi config rm virtwire:callTimeout) for the default of 300 s",
      );
    },
  );

  it("refuses a bad deadline inside a virtwire:hosts entry with the key's --path", () => {
    const error = configError({
      "virtwire:hosts": JSON.stringify({ kvm1: { uri: "qemu:///system", longCallTimeout: -5 } }),
    });
    expect(error.message).toContain("virtwire:hosts.kvm1.longCallTimeout must be a whole number");
    expect(error.message).toContain(
      "pulumi config rm --path 'virtwire:hosts.kvm1.longCallTimeout'",
    );
    expect(error.message).toContain("the default of 3600 s");
  });
});

describe("keepalive in the stack config", () => {
  it("reads virtwire:keepaliveInterval and keepaliveCount, 0 included", () => {
    const { defaultHost } = readSettings(
      config({ "virtwire:keepaliveInterval": "0", "virtwire:keepaliveCount": "12" }),
      {},
    );
    expect(defaultHost).toMatchObject({ keepaliveInterval: 0, keepaliveCount: 12 });
  });

  it("leaves them unset when not given, for schema.json's defaults (libvirt's 5 and 5) to apply", () => {
    const { defaultHost } = readSettings(config({}), {});
    expect(defaultHost.keepaliveInterval).toBeUndefined();
    expect(numberSetting(defaultHost, "keepaliveInterval")).toBe(5);
    expect(numberSetting(defaultHost, "keepaliveCount")).toBe(5);
  });

  it("takes them in a virtwire:hosts entry", () => {
    const { hosts } = readSettings(
      config({
        "virtwire:hosts": JSON.stringify({
          kvm1: { uri: "qemu:///system", keepaliveInterval: 30, keepaliveCount: "2" },
        }),
      }),
      {},
    );
    expect(hosts.kvm1).toMatchObject({ keepaliveInterval: 30, keepaliveCount: 2 });
  });

  it.each(["-1", "2.5", "5s", "2147484"])(
    "refuses an interval of %p, saying what 0 does",
    (value) => {
      expect(configError({ "virtwire:keepaliveInterval": value }).message).toBe(
        "virtwire:keepaliveInterval must be a whole number of seconds up to 2147483, or 0 to turn " +
          "keepalive off; remove it (pulumi config rm virtwire:keepaliveInterval) for the default of 5 s",
      );
    },
  );

  it("refuses a count that is not a whole number, inside a virtwire:hosts entry too", () => {
    const error = configError({
      "virtwire:hosts": JSON.stringify({ kvm1: { uri: "qemu:///system", keepaliveCount: -1 } }),
    });
    expect(error.message).toBe(
      "virtwire:hosts.kvm1.keepaliveCount must be a whole number of PINGs up to 2147483; remove " +
        "it (pulumi config rm --path 'virtwire:hosts.kvm1.keepaliveCount') for the default of 5",
    );
  });
});
