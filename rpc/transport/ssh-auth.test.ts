import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { utils } from "ssh2";
import { AuthError } from "../errors";
import { CredentialType, callbackCredentials, staticCredentials } from "../client/auth/credentials";
import { SshAuthSession, planSshAuth } from "./ssh-auth";
import type { SshAuthAttempt, SshMethodName } from "./ssh-auth";
import { generateSshKeyPair } from "../../test/support/ssh-keys";

const CONTEXT = { service: "ssh" as const, host: "kvm1" };
const plain = generateSshKeyPair().private;
const encrypted = generateSshKeyPair("ed25519", { passphrase: "pw" }).private;

type KeyboardInteractive = Extract<SshAuthAttempt, { type: "keyboard-interactive" }>;

/** Drives the handler as ssh2 does: each answer, then the next call with the methods left. */
async function steps(
  session: SshAuthSession,
  offered: SshMethodName[] | null,
): Promise<(SshAuthAttempt | false)[]> {
  const seen: (SshAuthAttempt | false)[] = [];
  let left: SshMethodName[] | null = null;
  for (;;) {
    const method = await new Promise<SshAuthAttempt | false>((resolve) =>
      session.handler(left, false, resolve),
    );
    seen.push(method);
    if (method === false) return seen;
    left = offered;
  }
}

describe("planSshAuth", () => {
  let home: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), "vwtest-sshauth-"));
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  const plan = (extra: Partial<Parameters<typeof planSshAuth>[0]> = {}) =>
    planSshAuth({
      username: "root",
      ssh: {},
      credentials: [],
      context: CONTEXT,
      home,
      env: {},
      ...extra,
    });

  it("notes a missing agent and uses SSH_AUTH_SOCK or options.ssh.agent", () => {
    expect(plan().notes).toContain("agent: SSH_AUTH_SOCK is not set");
    expect(plan({ env: { SSH_AUTH_SOCK: "/a" } }).agent).toBe("/a");
    expect(plan({ env: { SSH_AUTH_SOCK: "/a" }, ssh: { agent: "/b" } }).agent).toBe("/b");
    expect(plan({ env: { SSH_AUTH_SOCK: "/a" }, ssh: { agent: false } }).agent).toBeUndefined();
  });

  it("loads the key from options, then keyfile=, then the default files", () => {
    mkdirSync(join(home, ".ssh"));
    writeFileSync(join(home, ".ssh", "id_rsa"), plain);
    writeFileSync(join(home, ".ssh", "id_ecdsa"), encrypted);
    expect(plan().keys.map((k) => k.source)).toEqual([join(home, ".ssh", "id_rsa")]);
    expect(plan().notes.join()).toMatch(/skipped .*id_ecdsa/);
    expect(plan({ ssh: { passphrase: "pw" } }).keys).toHaveLength(2);
    writeFileSync(join(home, "k"), plain);
    expect(plan({ keyfile: join(home, "k") }).keys.map((k) => k.source)).toEqual([
      `keyfile ${join(home, "k")}`,
    ]);
    expect(plan({ ssh: { privateKey: plain } }).keys.map((k) => k.source)).toEqual([
      "options.ssh.privateKey",
    ]);
  });

  it("fails on an explicit key it cannot use, without showing the passphrase", () => {
    expect(() => plan({ ssh: { privateKey: encrypted } })).toThrow(AuthError);
    expect(() => plan({ ssh: { privateKey: encrypted } })).toThrow(/options\.ssh\.passphrase/);
    expect(() => plan({ ssh: { privateKey: "garbage" } })).toThrow(/options\.ssh\.privateKey/);
    expect(() => plan({ keyfile: join(home, "missing") })).toThrow(/cannot read the SSH key file/);
    let message = "";
    try {
      plan({ ssh: { privateKey: encrypted, passphrase: "wrong-secret" } });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).not.toContain("wrong-secret");
  });
});

describe("SshAuthSession", () => {
  const basePlan = {
    username: "root",
    keys: [],
    notes: [],
    credentials: [],
    context: CONTEXT,
  };

  it("tries the methods in sshauth order and skips those the server does not offer", async () => {
    const key = utils.parseKey(plain) as never;
    const session = new SshAuthSession({
      ...basePlan,
      methods: ["password", "agent", "privkey"],
      agent: "/agent.sock",
      keys: [{ source: "k", key }],
      credentials: [staticCredentials("s", { password: "pw" })],
    });
    const seen = await steps(session, ["publickey"]);
    expect(seen.map((m) => (m === false ? false : m.type))).toEqual([
      "password",
      "agent",
      "publickey",
      false,
    ]);
    expect(session.tried).toEqual(["password", "agent (/agent.sock)", "publickey (k)"]);
  });

  it("skips a method the server has stopped offering", async () => {
    const session = new SshAuthSession({
      ...basePlan,
      methods: ["agent", "password"],
      agent: "/agent.sock",
      credentials: [staticCredentials("s", { password: "pw" })],
    });
    const seen = await steps(session, ["publickey"]);
    expect(seen.map((m) => (m === false ? false : m.type))).toEqual(["agent", false]);
    expect(session.failure("kvm1:22").message).toMatch(
      /SSH authentication as root at kvm1:22 failed \(the server accepts: publickey\); tried: agent/,
    );
  });

  it("asks the sources for the password once, as PASSPHRASE", async () => {
    const asked: CredentialType[] = [];
    const session = new SshAuthSession({
      ...basePlan,
      methods: ["password", "keyboard-interactive"],
      credentials: [
        callbackCredentials((requests) => {
          asked.push(...requests.map((r) => r.type));
          return requests.map(() => "pw");
        }),
      ],
    });
    const seen = await steps(session, ["password", "keyboard-interactive"]);
    expect(seen[0]).toMatchObject({ type: "password", username: "root", password: "pw" });
    const kbd = seen[1] as KeyboardInteractive;
    const answers = await new Promise<string[]>((resolve) =>
      kbd.prompt("", "", "", [{ prompt: "Password: ", echo: false }], resolve),
    );
    expect(answers).toEqual(["pw"]);
    expect(asked).toEqual([CredentialType.PASSPHRASE]);
  });

  it("stops with the credential error when a source breaks the no-empty-answer rule", async () => {
    const session = new SshAuthSession({
      ...basePlan,
      methods: ["password", "keyboard-interactive"],
      credentials: [staticCredentials("stack config", { password: "" })],
    });
    const seen = await steps(session, ["password", "keyboard-interactive"]);
    expect(seen).toEqual([false]);
    const failure = session.failure("kvm1:22");
    expect(failure).toBeInstanceOf(AuthError);
    expect(failure.message).toMatch(/"stack config" reported success but left the password/);
  });

  it("asks non-password keyboard-interactive prompts as prompts", async () => {
    const requests: { type: CredentialType; prompt: string; challenge?: string }[] = [];
    const session = new SshAuthSession({
      ...basePlan,
      methods: ["keyboard-interactive"],
      credentials: [
        callbackCredentials((asked) => {
          requests.push(...asked);
          return asked.map(() => "123456");
        }),
      ],
    });
    const [kbd] = (await steps(session, null)) as KeyboardInteractive[];
    const answers = await new Promise<string[]>((resolve) =>
      kbd!.prompt(
        "",
        "Use your token",
        "",
        [{ prompt: "Verification code: ", echo: true }],
        resolve,
      ),
    );
    expect(answers).toEqual(["123456"]);
    expect(requests).toEqual([
      {
        type: CredentialType.ECHOPROMPT,
        prompt: "Verification code:",
        challenge: "Use your token",
      },
    ]);
  });
});
