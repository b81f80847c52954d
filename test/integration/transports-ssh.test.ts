/**
 * The SSH transports against the test bed's sshd (127.0.0.1:2222, and :2223 without
 * virt-ssh-helper on its PATH; scripts/testbed/sshd.sh): logins by key file, key text with a
 * passphrase, agent, password and keyboard-interactive (through the credential model), and the
 * three proxies. Host keys are pinned here; transports-ssh-host-keys.test.ts covers known_hosts.
 * Run inside the namespace: `ip netns exec virtwire npx jest --selectProjects integration
 * test/integration/transports-ssh`.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AuthError,
  ConnectionClosedError,
  CredentialType,
  Libvirt,
  UriError,
  callbackCredentials,
  parseLibvirtUri,
  staticCredentials,
} from "../../rpc/internal";
import { uploadVolume } from "../../transfer";
import { remoteSocketPath } from "../../rpc/transport/sockets";
import {
  ClientKey,
  SSH,
  authorizeKey,
  hostKeys,
  makeClientKey,
  processesMatching,
  scratchDir,
  startAgent,
  testUserPassword,
} from "../support/ssh";
import {
  connectAndExercise,
  connectFailure,
  exerciseConnection,
} from "../support/transport-checks";
import { connectTestbed, dirPoolXml, uniqueName } from "../support/testbed";

/** Trust every host key of the test bed's sshd by fingerprint; known_hosts is then not read. */
const pinned = () => hostKeys().map((key) => key.fingerprint);
const rootUri = (port = SSH.port, query = "") =>
  `qemu+ssh://root@${SSH.host}:${port}/system${query ? `?${query}` : ""}`;
/** The remote commands for rootUri(): virt-ssh-helper with the driver URI, or nc on the socket. */
const helperCommand = `virt-ssh-helper ${parseLibvirtUri(rootUri()).name}`;
const netcatSocket = `-U ${remoteSocketPath(parseLibvirtUri(rootUri()), false)}`;

describe("the ssh transport", () => {
  let key: ClientKey;
  let revoke: () => void;
  let scratch: ReturnType<typeof scratchDir>;
  let keyFile: string;

  beforeAll(() => {
    key = makeClientKey();
    revoke = authorizeKey("root", key);
    scratch = scratchDir("ssh");
    keyFile = join(scratch.dir, "id_ed25519");
    writeFileSync(keyFile, key.privateKey, { mode: 0o600 });
  });

  afterAll(() => {
    revoke?.();
    scratch?.cleanup();
  });

  const noAgent = { agent: false as const };

  it("logs in with keyfile= and carries the representative calls (proxy=auto)", async () => {
    await connectAndExercise(rootUri(SSH.port, `keyfile=${keyFile}`), {
      ssh: { ...noAgent, hostKeyFingerprint: pinned() },
    });
  });

  it.each(["native", "netcat"])("carries the representative calls with proxy=%s", async (proxy) => {
    await connectAndExercise(rootUri(SSH.port, `keyfile=${keyFile}&proxy=${proxy}`), {
      ssh: { ...noAgent, hostKeyFingerprint: pinned() },
    });
  });

  it("runs virt-ssh-helper for proxy=auto where it is installed", async () => {
    const lv = await Libvirt.connect(rootUri(SSH.port, `keyfile=${keyFile}`), {
      ssh: { ...noAgent, hostKeyFingerprint: pinned() },
    });
    try {
      expect(processesMatching(helperCommand).length).toBeGreaterThan(0);
    } finally {
      await lv.close();
    }
  });

  it("falls back to nc for proxy=auto where virt-ssh-helper is missing", async () => {
    const lv = await Libvirt.connect(rootUri(SSH.noHelperPort, `keyfile=${keyFile}`), {
      ssh: { ...noAgent, hostKeyFingerprint: pinned() },
    });
    try {
      await exerciseConnection(lv);
      expect(processesMatching(netcatSocket).length).toBeGreaterThan(0);
    } finally {
      await lv.close();
    }
  });

  it("fails proxy=native where virt-ssh-helper is missing, with the remote error", async () => {
    const error = await connectFailure(
      Libvirt.connect(rootUri(SSH.noHelperPort, `keyfile=${keyFile}&proxy=native`), {
        ssh: { ...noAgent, hostKeyFingerprint: pinned() },
      }),
    );
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect(error.message).toMatch(/exited with status 127: [^]*virt-ssh-helper: not found/);
  });

  it("uploads a file byte for byte, though the channel's window fills and the read buffer is reused", async () => {
    // 48 MiB of random data in 1 MiB reads into a few reused buffers: the SSH window (2 MiB)
    // fills again and again, and a chunk the channel still held would be overwritten by a read.
    const source = join(scratch.dir, "upload.raw");
    const data = randomBytes(48 * 1024 * 1024);
    writeFileSync(source, data);
    const local = await connectTestbed();
    const poolDir = join(scratch.dir, "pool");
    mkdirSync(poolDir);
    const { pool } = await local.StoragePoolCreateXML({
      xml: dirPoolXml(uniqueName("ssh-upload"), poolDir),
      flags: 0,
    });
    const remote = await Libvirt.connect(rootUri(SSH.port, `keyfile=${keyFile}`), {
      ssh: { ...noAgent, hostKeyFingerprint: pinned() },
    });
    try {
      const { vol } = await local.StorageVolCreateXML({
        pool,
        xml: `<volume><name>upload.raw</name><capacity unit='bytes'>${data.length}</capacity><target><format type='raw'/></target></volume>`,
        flags: 0,
      });
      await uploadVolume(remote, vol, source);
      const { name: path } = await local.StorageVolGetPath({ vol });
      const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
      expect(sha256(readFileSync(path))).toBe(sha256(data));
      await local.StorageVolDelete({ vol, flags: 0 });
    } finally {
      await remote.close();
      await local.StoragePoolDestroy({ pool }); // transient: gone once stopped
      await local.close();
    }
  });

  it("logs in with a private key given as text, encrypted with a passphrase", async () => {
    const encrypted = makeClientKey("correct horse");
    const undo = authorizeKey("root", encrypted);
    try {
      await connectAndExercise(rootUri(), {
        ssh: {
          ...noAgent,
          privateKey: encrypted.privateKey,
          passphrase: "correct horse",
          hostKeyFingerprint: pinned(),
        },
      });
      const wrong = await connectFailure(
        Libvirt.connect(rootUri(), {
          ssh: { ...noAgent, privateKey: encrypted.privateKey, hostKeyFingerprint: pinned() },
        }),
      );
      expect(wrong).toBeInstanceOf(AuthError);
      expect(wrong.message).toMatch(/cannot use the SSH private key from options\.ssh\.privateKey/);
      expect(wrong.message).toMatch(/options\.ssh\.passphrase/);
      expect(wrong.message).not.toContain("correct horse");
    } finally {
      undo();
    }
  });

  it("logs in with an ssh-agent", async () => {
    const agentKey = makeClientKey();
    const undo = authorizeKey("root", agentKey);
    const agent = await startAgent(agentKey, scratch.dir);
    try {
      await connectAndExercise(rootUri(SSH.port, "sshauth=agent"), {
        ssh: { agent: agent.socket, hostKeyFingerprint: pinned() },
      });
    } finally {
      agent.stop();
      undo();
    }
  });

  it("says what it tried when no method works", async () => {
    const stranger = makeClientKey();
    const error = await connectFailure(
      Libvirt.connect(rootUri(SSH.port, "sshauth=privkey"), {
        ssh: { ...noAgent, privateKey: stranger.privateKey, hostKeyFingerprint: pinned() },
      }),
    );
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toMatch(/SSH authentication as root at 127\.0\.0\.1:2222 failed/);
    expect(error.message).toMatch(/tried: publickey \(options\.ssh\.privateKey\)/);
  });

  it("refuses command= (no local ssh binary is used)", async () => {
    const error = await connectFailure(Libvirt.connect(rootUri(SSH.port, "command=/usr/bin/ssh")));
    expect(error).toBeInstanceOf(UriError);
  });

  describe("password logins of the test user", () => {
    const userUri = (query: string) =>
      `qemu+ssh://${SSH.user}@${SSH.host}:${SSH.port}/system?${query}`;

    it("take the password from the credential sources (PASSPHRASE)", async () => {
      const asked: CredentialType[] = [];
      const password = testUserPassword();
      await connectAndExercise(userUri("sshauth=password"), {
        ssh: { ...noAgent, hostKeyFingerprint: pinned() },
        credentials: [
          callbackCredentials((requests) => {
            asked.push(...requests.map((r) => r.type));
            return requests.map(() => password);
          }),
        ],
      });
      expect(asked).toEqual([CredentialType.PASSPHRASE]);
    });

    it("take the password from options.ssh.password", async () => {
      await connectAndExercise(userUri("sshauth=password"), {
        ssh: { ...noAgent, password: testUserPassword(), hostKeyFingerprint: pinned() },
      });
    });

    it("answer keyboard-interactive prompts from the same sources", async () => {
      await connectAndExercise(userUri("sshauth=keyboard-interactive&proxy=netcat"), {
        ssh: { ...noAgent, hostKeyFingerprint: pinned() },
        credentials: [staticCredentials("test", { password: testUserPassword() })],
      });
    });

    it("refuse an empty answer from a source, naming the credential", async () => {
      const error = await connectFailure(
        Libvirt.connect(userUri("sshauth=password"), {
          ssh: { ...noAgent, hostKeyFingerprint: pinned() },
          credentials: [staticCredentials("stack config", { password: "" })],
        }),
      );
      expect(error).toBeInstanceOf(AuthError);
      expect(error.message).toMatch(/"stack config" reported success but left the password/);
    });

    it("fail with a wrong password without showing it", async () => {
      const error = await connectFailure(
        Libvirt.connect(userUri("sshauth=password"), {
          ssh: { ...noAgent, password: "not-the-password", hostKeyFingerprint: pinned() },
        }),
      );
      expect(error).toBeInstanceOf(AuthError);
      expect(error.message).toMatch(/tried: password/);
      expect(error.message).not.toContain("not-the-password");
    });
  });
});
