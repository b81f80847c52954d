/**
 * Host-key checking of the SSH transports against the test bed's sshd (ed25519, ecdsa and rsa
 * host keys on 127.0.0.1:2222): only configuration makes a key trusted.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Libvirt } from "../../rpc";
import { HostKeyError } from "../../rpc/transport/errors";
import { fingerprint } from "../../rpc/transport/known-hosts";
import {
  ClientKey,
  SSH,
  authorizeKey,
  hostKey,
  hostKeys,
  makeClientKey,
  scratchDir,
  writeKnownHosts,
} from "../support/ssh";
import { generateSshKeyPair } from "../support/ssh-keys";

const NAME = `[${SSH.host}]:${SSH.port}`;

async function outcome(uri: string, key: ClientKey, extra: object = {}): Promise<Error | "ok"> {
  try {
    const lv = await Libvirt.connect(uri, {
      ssh: { agent: false, privateKey: key.privateKey, ...extra },
    });
    await lv.ConnectGetHostname();
    await lv.close();
    return "ok";
  } catch (error) {
    return error as Error;
  }
}

describe("ssh host keys", () => {
  let key: ClientKey;
  let revoke: () => void;
  let scratch: ReturnType<typeof scratchDir>;
  const uri = (query: string) => `qemu+ssh://root@${SSH.host}:${SSH.port}/system?${query}`;

  beforeAll(() => {
    key = makeClientKey();
    revoke = authorizeKey("root", key);
    scratch = scratchDir("hostkeys");
  });

  afterAll(() => {
    revoke?.();
    scratch?.cleanup();
  });

  it("refuses an unknown key, showing its type and fingerprint and how to trust it", async () => {
    const empty = writeKnownHosts(scratch.dir, [], "empty");
    const error = await outcome(uri(`known_hosts=${empty}`), key);
    expect(error).toBeInstanceOf(HostKeyError);
    const ed25519 = hostKey("ssh-ed25519");
    expect(error).toMatchObject({
      problem: "unknown",
      host: NAME,
      keyType: "ssh-ed25519",
      fingerprint: ed25519.fingerprint,
    });
    const message = (error as Error).message;
    expect(message).toContain(`ssh-ed25519 ${ed25519.fingerprint}`);
    expect(message).toContain(empty);
    expect(message).toContain("known_hosts_verify=auto");
    expect(message).toContain("options.ssh.hostKeyFingerprint");
    expect(readFileSync(empty, "utf8")).toBe("");
  });

  it("accepts a pinned fingerprint", async () => {
    const empty = writeKnownHosts(scratch.dir, [], "empty-pinned");
    const pin = hostKey("ssh-ed25519").fingerprint;
    expect(await outcome(uri(`known_hosts=${empty}`), key, { hostKeyFingerprint: pin })).toBe("ok");
  });

  it("refuses a key that does not match the pinned fingerprint", async () => {
    const other = generateSshKeyPair().public.split(" ")[1]!;
    const error = await outcome(uri("known_hosts=/dev/null"), key, {
      hostKeyFingerprint: fingerprint(Buffer.from(other, "base64")),
    });
    expect(error).toMatchObject({ problem: "mismatch" });
  });

  it("accepts a plain [host]:port known_hosts entry", async () => {
    const file = writeKnownHosts(scratch.dir, [`${NAME} ${hostKey("ssh-ed25519").text}`], "plain");
    expect(await outcome(uri(`known_hosts=${file}`), key)).toBe("ok");
  });

  it("accepts hashed entries made by ssh-keygen -H, for every host key type", async () => {
    const file = writeKnownHosts(
      scratch.dir,
      hostKeys().map((k) => `${NAME} ${k.text}`),
      "hashed",
    );
    execFileSync("ssh-keygen", ["-q", "-H", "-f", file], { stdio: "ignore" });
    expect(readFileSync(file, "utf8")).not.toContain(SSH.host);
    expect(await outcome(uri(`known_hosts=${file}`), key)).toBe("ok");
  });

  it.each(["ssh-rsa", "ecdsa-sha2-nistp256"])(
    "asks for the %s key when only that type is known",
    async (type) => {
      const file = writeKnownHosts(scratch.dir, [`${NAME} ${hostKey(type).text}`], `only-${type}`);
      expect(await outcome(uri(`known_hosts=${file}`), key)).toBe("ok");
    },
  );

  it("refuses a changed key loudly, also with accept-new", async () => {
    const impostor = generateSshKeyPair().public.split(" ").slice(0, 2).join(" ");
    const file = writeKnownHosts(scratch.dir, [`${NAME} ${impostor}`], "changed");
    for (const query of [`known_hosts=${file}`, `known_hosts=${file}&known_hosts_verify=auto`]) {
      const error = await outcome(uri(query), key);
      expect(error).toBeInstanceOf(HostKeyError);
      expect(error).toMatchObject({ problem: "changed", keyType: "ssh-ed25519" });
      expect((error as Error).message).toMatch(/HAS CHANGED/);
      expect((error as Error).message).toContain(`${file} line 1`);
    }
    expect(await outcome(uri(`known_hosts=${file}&known_hosts_verify=ignore`), key)).toBe("ok");
    expect(await outcome(uri(`known_hosts=${file}&no_verify=1`), key)).toBe("ok");
  });

  it("refuses a @revoked key even with verification off", async () => {
    const file = writeKnownHosts(
      scratch.dir,
      [`@revoked * ${hostKey("ssh-ed25519").text}`, `${NAME} ${hostKey("ssh-ed25519").text}`],
      "revoked",
    );
    const error = await outcome(uri(`known_hosts=${file}&no_verify=1`), key);
    expect(error).toMatchObject({ problem: "revoked" });
  });

  it("appends a new host's key with known_hosts_verify=auto, then knows it", async () => {
    const file = join(scratch.dir, "new", "known_hosts");
    expect(await outcome(uri(`known_hosts=${file}&known_hosts_verify=auto`), key)).toBe("ok");
    expect(readFileSync(file, "utf8")).toBe(`${NAME} ${hostKey("ssh-ed25519").text}\n`);
    expect(await outcome(uri(`known_hosts=${file}`), key)).toBe("ok");
  });

  it("accepts anything with known_hosts_verify=ignore and leaves the file alone", async () => {
    const file = writeKnownHosts(scratch.dir, [], "ignored");
    expect(await outcome(uri(`known_hosts=${file}&known_hosts_verify=ignore`), key)).toBe("ok");
    expect(readFileSync(file, "utf8")).toBe("");
  });
});
