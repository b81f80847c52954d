import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuthError,
  CredentialContext,
  CredentialType,
  DEFAULT_DEADLINES,
  DEFAULT_KEEPALIVE,
  HostKeyError,
  SshPrivateKey,
  UriError,
  collectCredentials,
} from "../rpc/internal";
import { ConfigError, HostSettings } from "./config";
import { connectionFor } from "./connections";
import { verifyHostKey } from "../rpc/transport/host-key";
import { SshAuthSession, planSshAuth } from "../rpc/transport/ssh-auth";
import { generateSshKeyPair } from "../test/support/ssh-keys";

const SASL: CredentialContext = { service: "libvirt", host: "kvm1" };
const SSH: CredentialContext = { service: "ssh", host: "kvm1" };
const USER = { type: CredentialType.AUTHNAME, prompt: "User name for kvm1" };
const PASSWORD = { type: CredentialType.PASSPHRASE, prompt: "Password for kvm1" };
const PRINT = "SHA256:" + "A".repeat(43);

const host = (settings: Partial<HostSettings>): HostSettings => ({
  name: "default",
  uri: "qemu+tls://kvm1/system",
  ...settings,
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vwtest-connections-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An environment in which no auth.conf is found by libvirt's search. */
const noAuthConf = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  HOME: dir,
  XDG_CONFIG_HOME: join(dir, "none"),
  ...extra,
});

function ask(settings: HostSettings, context: CredentialContext, env = noAuthConf()) {
  const { options } = connectionFor(settings, env);
  return collectCredentials(
    context.service === "ssh" ? [PASSWORD] : [USER, PASSWORD],
    options.credentials!,
    context,
  );
}

async function authError(promise: Promise<unknown>): Promise<AuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthError);
  return error as AuthError;
}

describe("the credential sources of a host", () => {
  it("answer SASL from the stack config first", async () => {
    const env = noAuthConf({ VIRTWIRE_USERNAME: "env-user", VIRTWIRE_PASSWORD: "env-pw" });
    await expect(ask(host({ username: "u", password: "p" }), SASL, env)).resolves.toEqual([
      "u",
      "p",
    ]);
  });

  it("then the URI's user name, then the environment, key by key", async () => {
    const env = noAuthConf({ VIRTWIRE_USERNAME: "env-user", VIRTWIRE_PASSWORD: "env-pw" });
    await expect(ask(host({ uri: "qemu+tls://admin@kvm1/system" }), SASL, env)).resolves.toEqual([
      "admin",
      "env-pw",
    ]);
    await expect(ask(host({}), SASL, env)).resolves.toEqual(["env-user", "env-pw"]);
  });

  it("then auth.conf: virtwire:authFile, or libvirt's own search", async () => {
    const file = join(dir, "auth.conf");
    writeFileSync(
      file,
      "[credentials-lab]\nauthname=lab-user\npassword=lab-pw\n[auth-libvirt-kvm1]\ncredentials=lab\n[auth-ssh-kvm1]\ncredentials=lab\n",
    );
    await expect(ask(host({ authFile: file }), SASL)).resolves.toEqual(["lab-user", "lab-pw"]);
    const env = noAuthConf({ LIBVIRT_AUTH_FILE: file });
    await expect(ask(host({}), SASL, env)).resolves.toEqual(["lab-user", "lab-pw"]);
    await expect(ask(host({ uri: "qemu+ssh://kvm1/system" }), SSH, env)).resolves.toEqual([
      "lab-pw",
    ]);
  });

  it("never offer the SASL password to SSH, nor the SSH password to SASL", async () => {
    const settings = host({
      uri: "qemu+ssh://kvm1/system",
      password: "sasl-pw",
      sshPassword: "ssh-pw",
    });
    const env = noAuthConf({ VIRTWIRE_PASSWORD: "env-pw" });
    await expect(ask(settings, SSH, env)).resolves.toEqual(["ssh-pw"]);
    await expect(ask({ ...settings, username: "u" }, SASL, env)).resolves.toEqual(["u", "sasl-pw"]);
    const error = await authError(
      ask(host({ uri: "qemu+ssh://kvm1/system", password: "x" }), SSH, env),
    );
    expect(error.message).toBe(
      "no credential source could supply the password for ssh on kvm1 (asked: stack config (virtwire:username, virtwire:password), stack config (virtwire:sshPassword), environment (VIRTWIRE_USERNAME, VIRTWIRE_PASSWORD))",
    );
  });

  it("name the stack config keys when nothing answers", async () => {
    const error = await authError(ask(host({ name: "kvm1" }), SASL));
    expect(error.message).toBe(
      "no credential source could supply the user name and password for libvirt on kvm1 (asked: stack config (virtwire:hosts.kvm1.username, virtwire:hosts.kvm1.password), stack config (virtwire:hosts.kvm1.sshPassword), environment (VIRTWIRE_USERNAME, VIRTWIRE_PASSWORD))",
    );
  });

  it("fail on an environment variable that is set but empty (the rule)", async () => {
    const env = noAuthConf({ VIRTWIRE_USERNAME: "u", VIRTWIRE_PASSWORD: "" });
    const error = await authError(ask(host({}), SASL, env));
    expect(error.message).toMatch(
      /^the credential source "environment \(VIRTWIRE_USERNAME, VIRTWIRE_PASSWORD\)" reported success but left the password \("Password for kvm1"\) empty; nothing was sent to the server$/,
    );
  });

  it("refuse an auth file that cannot be read, naming the key", () => {
    expect(() =>
      connectionFor(host({ authFile: join(dir, "missing.conf") }), noAuthConf()),
    ).toThrow(
      new ConfigError(`virtwire:authFile: cannot read ${join(dir, "missing.conf")}: no such file`),
    );
    const broken = join(dir, "broken.conf");
    writeFileSync(broken, "password = outside any group\n");
    expect(() => connectionFor(host({ authFile: broken }), noAuthConf())).toThrow(
      `virtwire:authFile: cannot read ${broken}: ${broken} line 1: expected "[group]" or "key = value"`,
    );
  });
});

describe("the transport options of a host", () => {
  const key = generateSshKeyPair("ed25519", { passphrase: "pp" }).private;

  it("passes SSH keys, passphrase and pinned fingerprints to the ssh transports", () => {
    const { uri, options } = connectionFor(
      host({
        uri: "qemu+ssh://root@kvm1/system",
        sshPrivateKey: key,
        sshPrivateKeyPassphrase: "pp",
        sshHostKeyFingerprint: [PRINT],
      }),
      noAuthConf(),
    );
    expect(uri).toMatchObject({ uri: "qemu+ssh://root@kvm1/system", transport: "ssh" });
    expect(options.ssh).toEqual({
      privateKey: expect.any(SshPrivateKey),
      passphrase: "pp",
      hostKeyFingerprint: [PRINT],
    });
    expect(options.tls).toBeUndefined();
  });

  it("passes virtwire:sshKnownHosts as the ssh transport's known_hosts file", () => {
    const knownHosts = (u: string) =>
      connectionFor(host({ uri: u, sshKnownHosts: "/tmp/my hosts" }), noAuthConf()).options.ssh
        ?.knownHosts;
    expect(knownHosts("qemu+ssh://kvm1/system")).toBe("/tmp/my hosts");
    expect(knownHosts("qemu+ssh://kvm1/system?no_tty=1")).toBe("/tmp/my hosts");
    expect(knownHosts("qemu+ssh://kvm1/system?known_hosts=/tmp/my%20hosts")).toBe("/tmp/my hosts");
    expect(() => knownHosts("qemu+ssh://kvm1/system?known_hosts=/other")).toThrow(
      "virtwire:sshKnownHosts and known_hosts= in virtwire:uri name different files: keep one",
    );
  });

  it("passes TLS PEM text to the tls transport", () => {
    const { options } = connectionFor(
      host({ tlsCaCert: "ca", tlsClientCert: "cert", tlsClientKey: "key" }),
      noAuthConf(),
    );
    expect(options.tls).toEqual({ ca: "ca", cert: "cert", key: "key" });
    expect(options.ssh).toBeUndefined();
  });

  it("refuses keys the URI's transport would not use", () => {
    expect(() =>
      connectionFor(host({ uri: "qemu:///system", sshPassword: "x", sshKnownHosts: "/k" }), {}),
    ).toThrow(
      "virtwire:sshPassword, virtwire:sshKnownHosts are set, but virtwire:uri uses the unix transport, not ssh: remove them or fix the URI",
    );
    expect(() =>
      connectionFor(host({ name: "k", uri: "qemu+ssh://k/system", tlsCaCert: "ca" }), {}),
    ).toThrow(
      "virtwire:hosts.k.tlsCaCert is set, but virtwire:hosts.k.uri uses the ssh transport, not tls: remove it or fix the URI",
    );
  });

  it("checks the private key and its passphrase before connecting", () => {
    const settings = host({ uri: "qemu+ssh://kvm1/system", sshPrivateKey: key });
    expect(() => connectionFor(settings, noAuthConf())).toThrow(
      /^virtwire:sshPrivateKey cannot be used: .*passphrase.*; it is encrypted: set pulumi config set --secret virtwire:sshPrivateKeyPassphrase <value>$/,
    );
    expect(() =>
      connectionFor({ ...settings, sshPrivateKeyPassphrase: "wrong" }, noAuthConf()),
    ).toThrow(
      /^virtwire:sshPrivateKey cannot be used: .*; check virtwire:sshPrivateKeyPassphrase$/,
    );
  });
});

describe("the deadlines of a host", () => {
  it("become the client's options in milliseconds", () => {
    const settings = host({ callTimeout: 20, longCallTimeout: 0, streamIdleTimeout: 90 });
    expect(connectionFor(settings).options).toMatchObject({
      callTimeoutMs: 20_000,
      longCallTimeoutMs: 0,
      streamIdleTimeoutMs: 90_000,
    });
  });

  it("default to schema.json's, which are the client's own defaults", () => {
    const { options } = connectionFor(host({}));
    expect(options).toMatchObject({ ...DEFAULT_DEADLINES });
    expect(options.callTimeoutMs).toBe(300_000);
  });
});

describe("the keepalive of a host", () => {
  it("becomes the client's keepalive option", () => {
    const settings = host({ keepaliveInterval: 30, keepaliveCount: 2 });
    expect(connectionFor(settings).options.keepalive).toEqual({ interval: 30, count: 2 });
  });

  it("is turned off by an interval of 0, as libvirt's virConnectSetKeepAlive does", () => {
    const settings = host({ keepaliveInterval: 0, keepaliveCount: 2 });
    expect(connectionFor(settings).options.keepalive).toBe(false);
  });

  it("defaults to schema.json's, which are the client's own defaults", () => {
    expect(connectionFor(host({})).options.keepalive).toEqual(DEFAULT_KEEPALIVE);
    expect(DEFAULT_KEEPALIVE).toEqual({ interval: 5, count: 5 });
  });
});

describe("client messages in stack config terms", () => {
  const names = (settings: Partial<HostSettings>) =>
    connectionFor(host({ uri: "qemu+ssh://kvm1/system", ...settings }), noAuthConf()).options
      .optionName!;

  /** The HostKeyError for a key known_hosts does not list. */
  function unknownHostKey(optionName: ReturnType<typeof names>): HostKeyError {
    const [, base64] = generateSshKeyPair().public.split(" ");
    const policy = { mode: "strict" as const, entries: [], knownHostsFile: "/k", optionName };
    try {
      verifyHostKey(policy, "kvm1", 22, Buffer.from(base64!, "base64"));
    } catch (error) {
      expect(error).toBeInstanceOf(HostKeyError);
      return error as HostKeyError;
    }
    throw new Error("expected a refusal");
  }

  it("name the keys of the host instead of the client's options", () => {
    const error = unknownHostKey(names({ name: "kvm1" }));
    expect(error.message).toContain(
      `pinning it with virtwire:hosts.kvm1.sshHostKeyFingerprint = "${error.fingerprint}", or`,
    );
    expect(error.stack).toContain("virtwire:hosts.kvm1.sshHostKeyFingerprint");
    const ssh = new SshAuthSession(
      planSshAuth({
        username: "root",
        ssh: {},
        credentials: [],
        context: SSH,
        home: dir,
        env: {},
        optionName: names({}),
      }),
    );
    expect(ssh.failure("kvm1:22").message).toContain(
      ". Give a key (keyfile= or virtwire:sshPrivateKey), an agent (SSH_AUTH_SOCK) or a password (virtwire:sshPassword or an [auth-ssh-<host>] entry in auth.conf)",
    );
  });

  it("name every option the client's messages can name", () => {
    const name = names({ name: "kvm1" });
    expect(name("ssh.privateKey")).toBe("virtwire:hosts.kvm1.sshPrivateKey");
    expect(name("ssh.passphrase")).toBe("virtwire:hosts.kvm1.sshPrivateKeyPassphrase");
    expect(name("ssh.password")).toBe("virtwire:hosts.kvm1.sshPassword");
    expect(name("tls.ca")).toBe("virtwire:hosts.kvm1.tlsCaCert");
    expect(name("tls.cert")).toBe("virtwire:hosts.kvm1.tlsClientCert");
    expect(name("tls.key")).toBe("virtwire:hosts.kvm1.tlsClientKey");
    expect(name("credentials")).toBe("virtwire:hosts.kvm1.username / virtwire:hosts.kvm1.password");
  });

  it("name the keys where a URI carries a password, without repeating it", () => {
    const refusal = () => connectionFor(host({ uri: "qemu+ssh://root:s3cr3t@kvm1/system" }), {});
    expect(refusal).toThrow(UriError);
    expect(refusal).toThrow(
      "pass them through virtwire:username / virtwire:password or virtwire:sshPassword",
    );
    expect(refusal).not.toThrow(/s3cr3t/);
  });
});
