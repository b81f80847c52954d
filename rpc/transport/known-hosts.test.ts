import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  appendKnownHost,
  blobKeyType,
  checkHostKey,
  entryMatchesHost,
  fingerprint,
  formatKnownHostsLine,
  hashHostName,
  knownHostName,
  knownKeyTypes,
  parseKnownHosts,
} from "./known-hosts";
import { generateSshKeyPair } from "../../test/support/ssh-keys";

function publicKey(type: "ed25519" | "ecdsa" | "rsa"): { line: string; blob: Buffer } {
  const bits = type === "ecdsa" ? 256 : type === "rsa" ? 2048 : undefined;
  const pair = generateSshKeyPair(type, bits ? { bits } : {});
  const line = pair.public.trim();
  return { line, blob: Buffer.from(line.split(" ")[1]!, "base64") };
}

const ED = publicKey("ed25519");
const ED_OTHER = publicKey("ed25519");
const EC = publicKey("ecdsa");
const RSA = publicKey("rsa");
const key = (k: { line: string }) => k.line.split(" ").slice(0, 2).join(" ");

describe("known_hosts parsing", () => {
  it("reads plain, hashed, marked and commented lines and skips malformed ones", () => {
    const text = [
      "# a comment",
      "",
      `kvm1,10.0.0.1 ${key(ED)} root@kvm1`,
      `[kvm2]:2222 ${key(EC)}`,
      `@revoked * ${key(RSA)}`,
      `@cert-authority *.example ${key(ED_OTHER)}`,
      `@bogus kvm3 ${key(ED)}`,
      "kvm4 ssh-ed25519 not*base64",
      `kvm5 ssh-rsa ${key(ED).split(" ")[1]}`, // type does not match the blob
      "kvm6",
    ].join("\n");
    const entries = parseKnownHosts(text, "/f");
    expect(entries.map((e) => [e.line, e.marker, e.hosts, e.keyType])).toEqual([
      [3, undefined, "kvm1,10.0.0.1", "ssh-ed25519"],
      [4, undefined, "[kvm2]:2222", "ecdsa-sha2-nistp256"],
      [5, "revoked", "*", "ssh-rsa"],
      [6, "cert-authority", "*.example", "ssh-ed25519"],
    ]);
    expect(entries[0]!.key.equals(ED.blob)).toBe(true);
    expect(entries[0]!.file).toBe("/f");
  });
});

describe("host names and patterns", () => {
  it("names hosts on port 22 plainly and others as [host]:port, in lower case", () => {
    expect(knownHostName("KVM1", 22)).toBe("kvm1");
    expect(knownHostName("127.0.0.1", 2222)).toBe("[127.0.0.1]:2222");
    expect(knownHostName("::1", 2222)).toBe("[::1]:2222");
  });

  const entry = (hosts: string) => parseKnownHosts(`${hosts} ${key(ED)}`)[0]!;

  it.each([
    ["kvm1", "kvm1", true],
    ["KVM1", "kvm1", true],
    ["kvm1,kvm2", "kvm2", true],
    ["kvm1", "kvm10", false],
    ["kvm*", "kvm10", true],
    ["kvm?", "kvm1", true],
    ["kvm?", "kvm10", false],
    ["*.lab,!bad.lab", "good.lab", true],
    ["*.lab,!bad.lab", "bad.lab", false],
    ["!bad.lab", "good.lab", false],
    ["[127.0.0.1]:2222", "[127.0.0.1]:2222", true],
    ["127.0.0.1", "[127.0.0.1]:2222", false],
    ["[127.0.0.1]:2222", "127.0.0.1", false],
    ["[127.0.0.*]:2222", "[127.0.0.1]:2222", true],
    ["k.m1", "kxm1", false],
  ])("%s covers %s: %s", (hosts, name, expected) => {
    expect(entryMatchesHost(entry(hosts), name)).toBe(expected);
  });

  it("matches hashed entries made by ssh-keygen -H", () => {
    const dir = mkdtempSync(join(tmpdir(), "vwtest-kh-"));
    try {
      const file = join(dir, "known_hosts");
      writeFileSync(file, `[127.0.0.1]:2222 ${key(ED)}\nkvm1 ${key(EC)}\n`);
      execFileSync("ssh-keygen", ["-q", "-H", "-f", file], { stdio: "ignore" });
      const entries = parseKnownHosts(readFileSync(file, "utf8"));
      expect(entries.every((e) => e.hosts.startsWith("|1|"))).toBe(true);
      expect(checkHostKey(entries, "127.0.0.1", 2222, ED.blob).status).toBe("known");
      expect(checkHostKey(entries, "kvm1", 22, EC.blob).status).toBe("known");
      expect(checkHostKey(entries, "127.0.0.1", 22, ED.blob).status).toBe("unknown");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("hashes names the way OpenSSH does", () => {
    const salt = Buffer.alloc(20, 7);
    const hashed = hashHostName("[h]:2222", salt);
    expect(hashed).toMatch(/^\|1\|[A-Za-z0-9+/]+=*\|[A-Za-z0-9+/]+=*$/);
    expect(entryMatchesHost(entry(hashed), "[h]:2222")).toBe(true);
    expect(entryMatchesHost(entry(hashed), "h")).toBe(false);
    expect(entryMatchesHost(entry("|1|bm90|base64|x"), "h")).toBe(false);
  });
});

describe("checkHostKey", () => {
  const entries = parseKnownHosts(
    [
      `kvm1 ${key(ED)}`,
      `kvm1 ${key(RSA)}`,
      `[kvm2]:2222 ${key(EC)}`,
      `kvm3 ${key(ED_OTHER)}`,
      `@revoked kvm4 ${key(ED)}`,
      `kvm4 ${key(ED)}`,
    ].join("\n"),
    "/kh",
  );

  it("knows a listed key, whichever of the host's types it is", () => {
    expect(checkHostKey(entries, "kvm1", 22, ED.blob)).toMatchObject({ status: "known" });
    expect(checkHostKey(entries, "kvm1", 22, RSA.blob)).toMatchObject({ status: "known" });
    expect(checkHostKey(entries, "kvm2", 2222, EC.blob)).toMatchObject({ status: "known" });
  });

  it("reports a different key of a known type as changed, with the lines", () => {
    const result = checkHostKey(entries, "kvm3", 22, ED.blob);
    expect(result.status).toBe("changed");
    expect(result.status === "changed" && result.entries.map((e) => e.line)).toEqual([4]);
  });

  it("reports an unknown type or host as unknown, naming the types it does know", () => {
    expect(checkHostKey(entries, "kvm2", 2222, ED.blob)).toEqual({
      status: "unknown",
      otherTypes: ["ecdsa-sha2-nistp256"],
    });
    expect(checkHostKey(entries, "kvm2", 22, EC.blob)).toEqual({
      status: "unknown",
      otherTypes: [],
    });
  });

  it("puts @revoked before everything else", () => {
    expect(checkHostKey(entries, "kvm4", 22, ED.blob)).toMatchObject({ status: "revoked" });
  });

  it("lists the key types a host is known with", () => {
    expect(knownKeyTypes(entries, "kvm1", 22)).toEqual(["ssh-ed25519", "ssh-rsa"]);
    expect(knownKeyTypes(entries, "kvm4", 22)).toEqual(["ssh-ed25519"]);
    expect(knownKeyTypes(entries, "nowhere", 22)).toEqual([]);
  });
});

describe("fingerprints and key blobs", () => {
  it("prints the SHA256 fingerprint as ssh-keygen -l does", () => {
    const dir = mkdtempSync(join(tmpdir(), "vwtest-fp-"));
    try {
      writeFileSync(join(dir, "k.pub"), `${ED.line}\n`);
      const printed = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", join(dir, "k.pub")], {
        encoding: "utf8",
      });
      expect(printed.split(" ")[1]).toBe(fingerprint(ED.blob));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads the key type from the blob", () => {
    expect(blobKeyType(ED.blob)).toBe("ssh-ed25519");
    expect(blobKeyType(RSA.blob)).toBe("ssh-rsa");
    expect(blobKeyType(Buffer.from([0, 0, 0]))).toBe("");
    expect(blobKeyType(Buffer.from([0xff, 0, 0, 0, 1]))).toBe("");
  });
});

describe("appending", () => {
  it("adds a line the parser reads back, after a missing final newline, creating the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "vwtest-append-"));
    try {
      const file = join(dir, "sub", "known_hosts");
      appendKnownHost(file, formatKnownHostsLine("127.0.0.1", 2222, ED.blob));
      writeFileSync(file, readFileSync(file, "utf8").trimEnd()); // drop the newline
      appendKnownHost(file, formatKnownHostsLine("kvm1", 22, EC.blob, { hashed: true }));
      const entries = parseKnownHosts(readFileSync(file, "utf8"));
      expect(entries).toHaveLength(2);
      expect(checkHostKey(entries, "127.0.0.1", 2222, ED.blob).status).toBe("known");
      expect(checkHostKey(entries, "kvm1", 22, EC.blob).status).toBe("known");
      expect(entries[1]!.hosts.startsWith("|1|")).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
