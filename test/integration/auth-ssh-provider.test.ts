/**
 * SSH credentials and host-key trust from the stack config, through the real dynamic-provider
 * plugin (virtwire-engine.ts): a small Pool is created on the test bed's daemon over
 * qemu+ssh://vwssh@127.0.0.1:2222/system, logging in with a key given as a secret with its
 * passphrase, with an ssh-agent, or with a password; unknown, changed and mismatching host keys
 * are refused with the key's fingerprint. Runs inside the test bed's namespace.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Libvirt, isNoStoragePool } from "../../rpc/internal";
import { connectTestbed } from "../support/testbed";
import {
  ClientKey,
  SSH,
  authorizeKey,
  hostKey,
  makeClientKey,
  scratchDir,
  startAgent,
  testUserPassword,
  writeKnownHosts,
} from "../support/ssh";
import { VirtwireEngine } from "../support/virtwire-engine";
import { POOL, poolInputs, stepFailure } from "./auth-helpers";
import { generateSshKeyPair } from "../support/ssh-keys";

const SSH_URI = `qemu+ssh://${SSH.user}@${SSH.host}:${SSH.port}/system`;
const HOST = `[${SSH.host}]:${SSH.port}`;
const PASSPHRASE = `pp-${Math.random().toString(36).slice(2)}`;

let lv: Libvirt;
let scratch: { dir: string; cleanup(): void };
let key: ClientKey;
/** An unencrypted key for the agent (ssh-add would ask for a passphrase). */
let agentKey: ClientKey;
let unauthorize: (() => void)[] = [];
let knownHosts: string;
let stack: VirtwireEngine | undefined;

beforeAll(async () => {
  lv = await connectTestbed();
  scratch = scratchDir("ssh-provider");
  key = makeClientKey(PASSPHRASE);
  agentKey = makeClientKey();
  unauthorize = [authorizeKey(SSH.user, key), authorizeKey(SSH.user, agentKey)];
  const ed25519 = hostKey("ssh-ed25519");
  knownHosts = writeKnownHosts(scratch.dir, [`${HOST} ${ed25519.text}`]);
});

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

afterAll(async () => {
  unauthorize.forEach((remove) => remove());
  scratch?.cleanup();
  await lv?.close();
});

/** Creates a pool through the stack, checks it on the daemon, then destroys it. */
async function createPool(current: VirtwireEngine, purpose: string): Promise<void> {
  const target = join(scratch.dir, purpose);
  mkdirSync(target, { recursive: true });
  const created = await current.engine.up(POOL, purpose, poolInputs(purpose, target));
  expect(created.step).toBe("create");
  const name = created.outputs.name as string;
  const { pool } = await lv.StoragePoolLookupByName({ name });
  expect((await lv.StoragePoolIsActive({ pool })).active).toBe(1);
  await current.engine.destroy();
  const gone = await lv.StoragePoolLookupByName({ name }).catch((e: unknown) => e);
  expect(isNoStoragePool(gone)).toBe(true);
}

describe("SSH logins from the stack config", () => {
  it("use a private key given as a secret, with its passphrase as a secret", async () => {
    stack = await VirtwireEngine.start({
      config: {
        "virtwire:uri": `${SSH_URI}?sshauth=privkey`,
        "virtwire:sshPrivateKey": key.privateKey,
        "virtwire:sshPrivateKeyPassphrase": PASSPHRASE,
        "virtwire:sshKnownHosts": knownHosts,
      },
      secretKeys: ["virtwire:sshPrivateKey", "virtwire:sshPrivateKeyPassphrase"],
    });
    await createPool(stack, "sshkey");
  });

  it("use an ssh-agent (SSH_AUTH_SOCK), with the host key pinned by fingerprint", async () => {
    const agent = await startAgent(agentKey, scratch.dir);
    try {
      stack = await VirtwireEngine.start({
        config: {
          "virtwire:uri": `${SSH_URI}?sshauth=agent`,
          "virtwire:sshHostKeyFingerprint": hostKey("ssh-ed25519").fingerprint,
        },
        env: { SSH_AUTH_SOCK: agent.socket },
      });
      await createPool(stack, "sshagent");
    } finally {
      agent.stop();
    }
  });

  it("use a password given as a secret", async () => {
    stack = await VirtwireEngine.start({
      config: {
        "virtwire:uri": `${SSH_URI}?sshauth=password`,
        "virtwire:sshPassword": testUserPassword(),
        "virtwire:sshKnownHosts": knownHosts,
      },
      secretKeys: ["virtwire:sshPassword"],
    });
    await createPool(stack, "sshpassword");
  });

  it("refuse a wrong passphrase before connecting, naming the keys", async () => {
    stack = await VirtwireEngine.start({
      config: {
        "virtwire:uri": SSH_URI,
        "virtwire:sshPrivateKey": key.privateKey,
        "virtwire:sshPrivateKeyPassphrase": `${PASSPHRASE}-wrong`,
        "virtwire:sshKnownHosts": knownHosts,
      },
      secretKeys: ["virtwire:sshPrivateKey", "virtwire:sshPrivateKeyPassphrase"],
    });
    const error = await stepFailure(
      stack.engine.up(POOL, "badpass", poolInputs("badpass", join(scratch.dir, "badpass"))),
    );
    expect(error.message).toMatch(
      /resource 'badpass' has a problem: virtwire:sshPrivateKey cannot be used: .*bad passphrase.*; check virtwire:sshPrivateKeyPassphrase/,
    );
    expect(error.message).not.toContain(PASSPHRASE);
  });

  it("refuse a passphrase that is set but empty, naming the key, before connecting", async () => {
    stack = await VirtwireEngine.start({
      config: {
        "virtwire:uri": SSH_URI,
        "virtwire:sshPrivateKey": key.privateKey,
        "virtwire:sshPrivateKeyPassphrase": "",
        "virtwire:sshKnownHosts": knownHosts,
      },
      secretKeys: ["virtwire:sshPrivateKey", "virtwire:sshPrivateKeyPassphrase"],
    });
    const error = await stepFailure(
      stack.engine.up(POOL, "emptypass", poolInputs("emptypass", join(scratch.dir, "emptypass"))),
    );
    expect(error.message).toContain(
      "virtwire:sshPrivateKeyPassphrase is set but empty; virtwire never sends an empty credential or setting",
    );
    expect(stack.plugin.output).not.toContain(key.privateKey.split("\n")[1]!);
  });
});

describe("SSH host keys from the stack config", () => {
  const attempt = async (config: Record<string, string>, purpose: string): Promise<Error> => {
    stack = await VirtwireEngine.start({
      config: {
        "virtwire:uri": `${SSH_URI}?sshauth=password`,
        "virtwire:sshPassword": testUserPassword(),
        ...config,
      },
    });
    const error = await stepFailure(
      stack.engine.up(POOL, purpose, poolInputs(purpose, join(scratch.dir, purpose))),
    );
    const pools = await lv.ConnectListAllStoragePools({ need_results: 1, flags: 0 });
    expect(pools.pools.map((pool) => pool.name).filter((n) => n.startsWith(purpose))).toEqual([]);
    return error;
  };

  it("refuse an unknown key, showing its fingerprint and the key that would pin it", async () => {
    const empty = writeKnownHosts(scratch.dir, [], "empty_known_hosts");
    const error = await attempt({ "virtwire:sshKnownHosts": empty }, "unknownkey");
    const { fingerprint } = hostKey("ssh-ed25519");
    expect(error.message).toContain(
      `cannot log in to libvirt: the SSH host key of ${HOST} is not known: the server presented ssh-ed25519 ${fingerprint}`,
    );
    expect(error.message).toContain(`virtwire:sshHostKeyFingerprint = "${fingerprint}"`);
    expect(error.message).not.toContain(testUserPassword());
  });

  it("refuse a changed key loudly", async () => {
    const impostor = generateSshKeyPair().public.split(" ").slice(0, 2).join(" ");
    const changed = writeKnownHosts(scratch.dir, [`${HOST} ${impostor}`], "changed_known_hosts");
    const error = await attempt({ "virtwire:sshKnownHosts": changed }, "changedkey");
    expect(error.message).toContain(
      `WARNING: THE SSH HOST KEY OF ${HOST} HAS CHANGED. The server presented ssh-ed25519 ${hostKey("ssh-ed25519").fingerprint}`,
    );
  });

  it("refuse a key that is not the pinned one", async () => {
    const other = generateSshKeyPair().public.split(" ")[1]!;
    const { fingerprint } = await import("../../rpc/transport/known-hosts");
    const pin = fingerprint(Buffer.from(other, "base64"));
    const error = await attempt({ "virtwire:sshHostKeyFingerprint": pin }, "pinmismatch");
    expect(error.message).toContain(
      `the SSH host key of ${HOST} is ssh-ed25519 ${hostKey("ssh-ed25519").fingerprint}, which is not the pinned fingerprint (${pin})`,
    );
  });

  it("accept any of several pinned fingerprints", async () => {
    stack = await VirtwireEngine.start({
      config: {
        "virtwire:uri": `${SSH_URI}?sshauth=password`,
        "virtwire:sshPassword": testUserPassword(),
        "virtwire:sshHostKeyFingerprint": ["ssh-rsa", "ssh-ed25519"]
          .map((type) => hostKey(type).fingerprint)
          .join(","),
      },
    });
    await createPool(stack, "sshpins");
  });
});
