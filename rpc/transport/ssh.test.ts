import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { hostKeyPolicy, knownHostsFiles, preferredHostKeyAlgorithms, sshUser } from "./ssh";
import { parseLibvirtUri } from "./uri";
import { generateSshKeyPair } from "../../test/support/ssh-keys";

describe("ssh defaults by scheme", () => {
  it("logs in as the local user over +ssh (OpenSSH) and as root over +libssh/+libssh2", () => {
    expect(sshUser(parseLibvirtUri("qemu+ssh://h/system"))).toBe(userInfo().username);
    expect(sshUser(parseLibvirtUri("qemu+libssh://h/system"))).toBe("root");
    expect(sshUser(parseLibvirtUri("qemu+libssh2://h/system"))).toBe("root");
    expect(sshUser(parseLibvirtUri("qemu+ssh://admin@h/system"))).toBe("admin");
  });

  it("reads OpenSSH's known_hosts files for +ssh and libvirt's for +libssh, or known_hosts=", () => {
    expect(knownHostsFiles(parseLibvirtUri("qemu+ssh://h/system"), "/home/u")).toEqual([
      "/home/u/.ssh/known_hosts",
      "/etc/ssh/ssh_known_hosts",
    ]);
    const config = process.env.XDG_CONFIG_HOME || "/home/u/.config";
    expect(knownHostsFiles(parseLibvirtUri("qemu+libssh2://h/system"), "/home/u")).toEqual([
      `${config}/libvirt/known_hosts`,
    ]);
    expect(knownHostsFiles(parseLibvirtUri("qemu+ssh://h/system?known_hosts=/k"), "/x")).toEqual([
      "/k",
    ]);
  });
});

describe("hostKeyPolicy", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "vwtest-policy-"));
    const key = generateSshKeyPair().public.split(" ").slice(0, 2).join(" ");
    writeFileSync(join(dir, "kh"), `h ${key}\n`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const policy = (query: string, ssh = {}) =>
    hostKeyPolicy(parseLibvirtUri(`qemu+ssh://h/system?known_hosts=${dir}/kh&${query}`), ssh);

  it.each([
    ["", "strict"],
    ["known_hosts_verify=normal", "strict"],
    ["known_hosts_verify=auto", "accept-new"],
    ["known_hosts_verify=ignore", "insecure"],
    ["no_verify=1", "insecure"],
    ["no_verify=0&known_hosts_verify=auto", "accept-new"],
  ])("%s → %s", (query, mode) => {
    expect(policy(query).mode).toBe(mode);
  });

  it("reads the entries and takes one or several pinned fingerprints", () => {
    expect(policy("").entries).toHaveLength(1);
    expect(policy("").knownHostsFile).toBe(`${dir}/kh`);
    expect(policy("", { hostKeyFingerprint: "SHA256:a" }).pinned).toEqual(["SHA256:a"]);
    expect(policy("", { hostKeyFingerprint: ["SHA256:a", "SHA256:b"] }).pinned).toHaveLength(2);
  });

  it("reads options.ssh.knownHosts instead of known_hosts= and the default files", () => {
    const other = join(dir, "other");
    writeFileSync(other, "");
    const uri = (query: string) => parseLibvirtUri(`qemu+ssh://h/system${query}`);
    for (const query of ["", `?known_hosts=${dir}/kh`]) {
      const chosen = hostKeyPolicy(uri(query), { knownHosts: other });
      expect(chosen.knownHostsFile).toBe(other);
      expect(chosen.entries).toHaveLength(0);
    }
  });
});

describe("preferredHostKeyAlgorithms", () => {
  it("asks first for the key types the host is known with, as OpenSSH does", () => {
    expect(preferredHostKeyAlgorithms([])[0]).toBe("ssh-ed25519");
    expect(preferredHostKeyAlgorithms(["ssh-rsa"]).slice(0, 3)).toEqual([
      "rsa-sha2-512",
      "rsa-sha2-256",
      "ssh-rsa",
    ]);
    const ecdsa = preferredHostKeyAlgorithms(["ecdsa-sha2-nistp256"]);
    expect(ecdsa[0]).toBe("ecdsa-sha2-nistp256");
    expect(ecdsa).toHaveLength(7);
  });
});
