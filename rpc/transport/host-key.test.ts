import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuthError } from "../errors";
import { HostKeyError } from "./errors";
import { HostKeyPolicy, verifyHostKey } from "./host-key";
import { fingerprint, parseKnownHosts } from "./known-hosts";
import { generateSshKeyPair } from "../../test/support/ssh-keys";

function blob(): { blob: Buffer; text: string } {
  const line = generateSshKeyPair().public.trim();
  const [type, base64] = line.split(" ");
  return { blob: Buffer.from(base64!, "base64"), text: `${type} ${base64}` };
}

const KEY = blob();
const OTHER = blob();

function policy(mode: HostKeyPolicy["mode"], lines: string[], extra: Partial<HostKeyPolicy> = {}) {
  return {
    mode,
    entries: parseKnownHosts(lines.join("\n"), "/home/u/.ssh/known_hosts"),
    knownHostsFile: "/home/u/.ssh/known_hosts",
    ...extra,
  };
}

function refusal(run: () => unknown): HostKeyError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HostKeyError);
    expect(error).toBeInstanceOf(AuthError);
    return error as HostKeyError;
  }
  throw new Error("expected a refusal");
}

describe("verifyHostKey", () => {
  it("accepts a key known for [host]:port", () => {
    const p = policy("strict", [`[127.0.0.1]:2222 ${KEY.text}`]);
    expect(verifyHostKey(p, "127.0.0.1", 2222, KEY.blob)).toBe("known");
  });

  it("refuses an unknown key, showing its type and fingerprint and how to trust it", () => {
    const error = refusal(() => verifyHostKey(policy("strict", []), "kvm1", 22, KEY.blob));
    expect(error).toMatchObject({
      problem: "unknown",
      host: "kvm1",
      keyType: "ssh-ed25519",
      fingerprint: fingerprint(KEY.blob),
    });
    expect(error.message).toContain(`ssh-ed25519 ${fingerprint(KEY.blob)}`);
    expect(error.message).toContain("/home/u/.ssh/known_hosts");
    expect(error.message).toContain(`options.ssh.hostKeyFingerprint = "${fingerprint(KEY.blob)}"`);
    expect(error.message).toContain("known_hosts_verify=auto");
  });

  it("refuses a changed key loudly in strict and accept-new modes", () => {
    for (const mode of ["strict", "accept-new"] as const) {
      const p = policy(mode, ["# header", `kvm1 ${OTHER.text}`]);
      const error = refusal(() => verifyHostKey(p, "kvm1", 22, KEY.blob));
      expect(error.problem).toBe("changed");
      expect(error.message).toMatch(/HAS CHANGED/);
      expect(error.message).toContain("/home/u/.ssh/known_hosts line 2");
      expect(error.message).toContain("ssh-keygen -R 'kvm1'");
    }
  });

  it("accepts a changed or unknown key only when verification is off", () => {
    const p = policy("insecure", [`kvm1 ${OTHER.text}`]);
    expect(verifyHostKey(p, "kvm1", 22, KEY.blob)).toBe("accepted-insecurely");
    expect(verifyHostKey(p, "kvm2", 22, KEY.blob)).toBe("accepted-insecurely");
  });

  it("refuses a revoked key in every mode", () => {
    for (const mode of ["strict", "accept-new", "insecure"] as const) {
      const p = policy(mode, [`@revoked * ${KEY.text}`, `kvm1 ${KEY.text}`]);
      expect(refusal(() => verifyHostKey(p, "kvm1", 22, KEY.blob)).problem).toBe("revoked");
    }
  });

  it("appends an unknown host's key in accept-new mode, then knows it", () => {
    const dir = mkdtempSync(join(tmpdir(), "vwtest-hostkey-"));
    try {
      const file = join(dir, "known_hosts");
      const p = { ...policy("accept-new", []), knownHostsFile: file };
      expect(verifyHostKey(p, "127.0.0.1", 2222, KEY.blob)).toBe("added");
      expect(readFileSync(file, "utf8")).toBe(`[127.0.0.1]:2222 ${KEY.text}\n`);
      const again = { ...p, entries: parseKnownHosts(readFileSync(file, "utf8"), file) };
      expect(verifyHostKey(again, "127.0.0.1", 2222, KEY.blob)).toBe("known");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("trusts a pinned fingerprint instead of known_hosts, with or without base64 padding", () => {
    const pinned = fingerprint(KEY.blob);
    const p = policy("strict", [`kvm1 ${OTHER.text}`], { pinned: ["SHA256:nope", `${pinned}=`] });
    expect(verifyHostKey(p, "kvm1", 22, KEY.blob)).toBe("pinned");
  });

  it("refuses a key that does not match the pinned fingerprint", () => {
    const p = policy("accept-new", [`kvm1 ${KEY.text}`], { pinned: [fingerprint(OTHER.blob)] });
    const error = refusal(() => verifyHostKey(p, "kvm1", 22, KEY.blob));
    expect(error.problem).toBe("mismatch");
    expect(error.message).toContain(fingerprint(KEY.blob));
    expect(error.message).toContain(fingerprint(OTHER.blob));
  });
});
