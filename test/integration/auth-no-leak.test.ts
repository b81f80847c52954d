/**
 * No secret leaves the provider: with secrets in the stack config (SASL passwords, an SSH key and
 * its passphrase, an SSH password, a TLS client key) and in resource inputs (CloudInitDisk
 * userData), a stack runs create, refresh, replace and delete on three hosts (TLS, SASL, SSH) and
 * fails to log in to three more (wrong SASL password; SSH key not authorized and wrong password;
 * wrong key passphrase), all through the real plugin. None of the secret values may appear in
 * what the plugin printed (Pulumi shows and keeps it), in the state as the engine stores it
 * (secrets there are encrypted), in outputs that are not secret, or in any error. Also: no
 * private key is committed to the repository. Runs inside the test bed's namespace.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SaslDaemon } from "../support/sasl-daemon";
import { REPO_ROOT } from "../support/program-dir";
import { PropertyMap, PropertyValue, isSecret, secret } from "../support/pulumi-wire";
import {
  ClientKey,
  SSH,
  authorizeKey,
  hostKey,
  makeClientKey,
  scratchDir,
  writeKnownHosts,
} from "../support/ssh";
import { TLS, pkiFile } from "../support/tls";
import {
  SECRET_OUTPUTS,
  VirtwireEngine,
  resourceInputs,
  virtwireType,
} from "../support/virtwire-engine";
import { POOL, poolInputs, stepFailure } from "./auth-helpers";

const DISK = virtwireType("CloudInitDisk");
const random = () => Math.random().toString(36).slice(2, 12);

let sasl: SaslDaemon;
let stack: VirtwireEngine;
let scratch: { dir: string; cleanup(): void };
let sshKey: ClientKey;
let strangerKey: ClientKey;
let unauthorize: () => void;
const secrets = {
  topPassword: `top-pw-${random()}`,
  wrongSaslPassword: `wrong-sasl-${random()}`,
  passphrase: `passphrase-${random()}`,
  wrongPassphrase: `wrong-passphrase-${random()}`,
  wrongSshPassword: `wrong-ssh-${random()}`,
  userData: `#cloud-config\npassword: ud-${random()}\n`,
  newUserData: `#cloud-config\npassword: ud2-${random()}\n`,
};

/** What may never appear: every secret value, and every base64 line of every key. */
function forbidden(): string[] {
  const keyLines = (pem: string) =>
    pem
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line.length >= 16 && !line.startsWith("-----"));
  return [
    // userData: the password line's value (JSON text escapes the newlines around it).
    ...Object.values(secrets).map((value) =>
      value.replace(/^#cloud-config\npassword: /, "").trim(),
    ),
    sasl.password,
    ...keyLines(sshKey.privateKey),
    ...keyLines(strangerKey.privateKey),
    ...keyLines(pkiFile("clientkey")),
  ];
}

function expectClean(what: string, text: string): void {
  for (const value of forbidden()) {
    if (text.includes(value))
      throw new Error(`${what} contains a secret value (${value.length} chars)`);
  }
}

/** Outputs as a user sees them: secret values masked. */
function masked(value: PropertyValue | undefined): PropertyValue | undefined {
  if (isSecret(value)) return "[secret]";
  if (Array.isArray(value)) return value.map((item) => masked(item) ?? null);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, masked(v) ?? null]));
  }
  return value;
}

const outputs: PropertyValue[] = [];
const errors: Error[] = [];

beforeAll(async () => {
  sasl = await SaslDaemon.start();
  scratch = scratchDir("no-leak");
  sshKey = makeClientKey(secrets.passphrase);
  strangerKey = makeClientKey();
  unauthorize = authorizeKey(SSH.user, sshKey);
  const knownHosts = writeKnownHosts(scratch.dir, [
    `[${SSH.host}]:${SSH.port} ${hostKey("ssh-ed25519").text}`,
  ]);
  const sshUri = `qemu+ssh://${SSH.user}@${SSH.host}:${SSH.port}/system`;
  stack = await VirtwireEngine.start({
    config: {
      "virtwire:uri": `qemu+tls://${TLS.host}:${TLS.port}/system`,
      "virtwire:password": secrets.topPassword,
      "virtwire:tlsCaCert": pkiFile("cacert"),
      "virtwire:tlsClientCert": pkiFile("clientcert"),
      "virtwire:tlsClientKey": pkiFile("clientkey"),
      "virtwire:hosts": JSON.stringify({
        sasl: { uri: sasl.unixUri, username: sasl.username, password: sasl.password },
        badsasl: {
          uri: sasl.unixUri,
          username: sasl.username,
          password: secrets.wrongSaslPassword,
        },
        ssh: {
          uri: sshUri,
          sshPrivateKey: sshKey.privateKey,
          sshPrivateKeyPassphrase: secrets.passphrase,
          sshKnownHosts: knownHosts,
        },
        badssh: {
          uri: sshUri,
          sshPrivateKey: strangerKey.privateKey,
          sshPassword: secrets.wrongSshPassword,
          sshKnownHosts: knownHosts,
        },
        badpassphrase: {
          uri: sshUri,
          sshPrivateKey: sshKey.privateKey,
          sshPrivateKeyPassphrase: secrets.wrongPassphrase,
          sshKnownHosts: knownHosts,
        },
      }),
    },
    secretKeys: ["virtwire:password", "virtwire:tlsClientKey", "virtwire:hosts"],
  });
});

afterAll(async () => {
  await stack?.close();
  unauthorize?.();
  await sasl?.dispose();
  scratch?.cleanup();
});

const poolDir = (purpose: string, onSasl = false) => {
  const dir = onSasl ? join(sasl.dir, "data", purpose) : join(scratch.dir, purpose);
  if (!onSasl) mkdirSync(dir, { recursive: true });
  return dir;
};

const disk = (pool: string, userData: string): PropertyMap =>
  resourceInputs("CloudInitDisk", "seed", { pool, userData: secret(userData) });

describe("secrets in the stack config and in inputs", () => {
  it("drive create, refresh, replace and delete on TLS, SASL and SSH hosts", async () => {
    const up = async (...args: Parameters<VirtwireEngine["engine"]["up"]>) => {
      const step = await stack.engine.up(...args);
      outputs.push(step.outputs);
      return step;
    };
    const pool = await up(POOL, "seedpool", poolInputs("seedpool", poolDir("seedpool")));
    const secretOut = { additionalSecretOutputs: SECRET_OUTPUTS.CloudInitDisk };
    const name = pool.outputs.name as string;
    expect((await up(DISK, "seed", disk(name, secrets.userData), secretOut)).step).toBe("create");
    await stack.engine.refresh();
    const replaced = await up(DISK, "seed", disk(name, secrets.newUserData), secretOut);
    expect(replaced.step).toBe("replace");
    expect(isSecret(replaced.outputs.userData)).toBe(true);
    const onSasl = await up(POOL, "onsasl", poolInputs("onsasl", poolDir("onsasl", true), "sasl"));
    const onSsh = await up(POOL, "onssh", poolInputs("onssh", poolDir("onssh"), "ssh"));
    expect([onSasl.step, onSsh.step]).toEqual(["create", "create"]);
    await stack.engine.refresh();
  });

  it("fail to log in without showing what was tried", async () => {
    for (const host of ["badsasl", "badssh", "badpassphrase"]) {
      const error = await stepFailure(
        stack.engine.up(POOL, `on${host}`, poolInputs(`on${host}`, poolDir(host), host)),
      );
      // Refused at check, before anything is made: the login, or the key that cannot be used.
      expect(error.message).toMatch(
        new RegExp(`on host ${host} failed|virtwire:hosts\\.${host}\\.`),
      );
      errors.push(error);
    }
    // A failed read (get, refresh): the engine shows its message; the plugin no longer prints it.
    for (const host of ["badsasl", "badssh"]) {
      const props = poolInputs(`read${host}`, poolDir(`read${host}`), host);
      const id = "00000000-0000-4000-8000-000000000000";
      errors.push(await stepFailure(stack.engine.get(POOL, `read${host}`, id, props)));
    }
    expect(errors.map((e) => e.message).join("\n")).toMatch(
      /SASL SCRAM-SHA-256 authentication failed/,
    );
    expect(errors.map((e) => e.message).join("\n")).toMatch(/SSH authentication as vwssh/);
    expect(errors.map((e) => e.message).join("\n")).toMatch(/cannot be used: .*bad passphrase/);
  });

  it("and destroy everything", async () => {
    const removed = await stack.engine.destroy();
    expect(removed.length).toBe(4);
  });

  it("leave no secret in the plugin's output", async () => {
    await stack.plugin.quiet();
    // Errors are printed once, by the engine: not again by the plugin, with a stack.
    expect(stack.plugin.output).not.toMatch(/Reading storage pool on host badsasl failed/);
    expectClean("the plugin's stdout/stderr", stack.plugin.output);
  });

  it("leave no secret in the stored state, where the secret config is encrypted", () => {
    const state = stack.engine.stateJson();
    expect(state).toContain("virtwire:hosts");
    expectClean("the state", state);
  });

  it("leave no secret in outputs that are not secret", () => {
    expect(outputs.length).toBe(5);
    // The check sees secrets: unmasked, the outputs do hold userData.
    expect(() => expectClean("the outputs", JSON.stringify(outputs))).toThrow(/contains a secret/);
    expectClean("the outputs", JSON.stringify(outputs.map(masked)));
  });

  it("leave no secret in error messages, their stacks or causes", () => {
    expect(errors).toHaveLength(5);
    for (const error of errors) {
      expectClean("an error", [error.message, error.stack, String(error.cause)].join("\n"));
    }
  });
});

describe("the repository", () => {
  it("holds no private key", () => {
    const files = execFileSync("git", ["ls-files", "-z"], { cwd: REPO_ROOT, encoding: "utf8" })
      .split("\0")
      .filter(Boolean);
    const block = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----\r?\n[A-Za-z0-9+/=:\- ]{16,}/;
    const offending = files.filter((file) => {
      try {
        return block.test(readFileSync(join(REPO_ROOT, file), "utf8"));
      } catch {
        return false; // gone from the work tree, or a directory (submodule)
      }
    });
    expect(files.length).toBeGreaterThan(100);
    expect(offending).toEqual([]);
  });
});
