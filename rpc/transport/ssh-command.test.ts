import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SocketEnvironment } from "./sockets";
import {
  defaultProxy,
  escapeShell,
  helperUri,
  remoteCommand,
  remoteCommandFor,
} from "./ssh-command";
import { parseLibvirtUri } from "./uri";

const ROOT: SocketEnvironment = { euid: 0, runtimeDir: "/run/user/0", exists: () => false };
const USER: SocketEnvironment = { euid: 1000, runtimeDir: "/run/user/1000", exists: () => false };

// The three command strings libvirt 9.6 sends for qemu+ssh://host/system
// (virNetClientSSHHelperCommand in src/rpc/virnetclient.c).
const NETCAT =
  `if 'nc' -q 2>&1 | grep "requires an argument" >/dev/null 2>&1; then ARG=-q0;else ARG=;fi;` +
  `'nc' $ARG -U /var/run/libvirt/libvirt-sock`;
const LIBVIRT_NATIVE = `sh -c 'virt-ssh-helper 'qemu:///system''`;
const LIBVIRT_NETCAT = `sh -c '${NETCAT}'`;
const LIBVIRT_AUTO =
  `sh -c 'which virt-ssh-helper 1>/dev/null 2>&1; if test $? = 0; then     ` +
  `virt-ssh-helper 'qemu:///system'; else    ${NETCAT}; fi'`;

describe("escapeShell (libvirt's virBufferEscapeShell)", () => {
  it.each([
    ["nc", "nc"],
    ["/usr/bin/nc", "/usr/bin/nc"],
    ["qemu:///system", "qemu:///system"],
    ["", "''"],
    ["/opt/my nc", "'/opt/my nc'"],
    ["it's", "'it'\\''s'"],
    ["qemu:///system?socket=/a&mode=legacy", "'qemu:///system?socket=/a&mode=legacy'"],
    ["a$b", "'a$b'"],
  ])("%s → %s", (input, expected) => {
    expect(escapeShell(input)).toBe(expected);
  });
});

describe("the remote command", () => {
  it.each([
    ["native", LIBVIRT_NATIVE],
    ["netcat", LIBVIRT_NETCAT],
    ["auto", LIBVIRT_AUTO],
  ] as const)("is libvirt's for proxy=%s", (proxy, expected) => {
    expect(
      remoteCommand({
        proxy,
        socketPath: "/var/run/libvirt/libvirt-sock",
        helperUri: "qemu:///system",
        readOnly: false,
      }),
    ).toBe(expected);
  });

  it("passes -r to virt-ssh-helper for read-only connections and uses the -ro socket for nc", () => {
    const uri = parseLibvirtUri("qemu+ssh://h/system");
    const command = remoteCommandFor(uri, true, ROOT);
    expect(command).toContain("virt-ssh-helper -r 'qemu:///system'");
    expect(command).toContain("-U /var/run/libvirt/libvirt-sock-ro");
  });

  it("escapes a netcat path with spaces twice, as the login shell and sh -c each remove a level", () => {
    const command = remoteCommand({
      proxy: "netcat",
      netcat: "/opt/my nc",
      socketPath: "/s",
      helperUri: "qemu:///system",
      readOnly: false,
    });
    expect(command).toContain(`'''\\''/opt/my nc'\\'''' $ARG -U /s`);
  });

  it("escapes a helper URI with parameters twice", () => {
    const uri = parseLibvirtUri("qemu+ssh://h/system?mode=legacy&proxy=native&keyfile=/k");
    expect(helperUri(uri)).toBe("qemu:///system?mode=legacy");
    expect(remoteCommandFor(uri, false, ROOT)).toBe(
      `sh -c 'virt-ssh-helper '''\\''qemu:///system?mode=legacy'\\'''''`,
    );
  });

  it("switches proxy=auto to netcat when netcat= is given", () => {
    const uri = parseLibvirtUri("qemu+ssh://h/system?netcat=/bin/nc.openbsd");
    expect(remoteCommandFor(uri, false, ROOT)).toBe(
      `sh -c 'if '/bin/nc.openbsd' -q 2>&1 | grep "requires an argument" >/dev/null 2>&1; then ` +
        `ARG=-q0;else ARG=;fi;'/bin/nc.openbsd' $ARG -U /var/run/libvirt/libvirt-sock'`,
    );
  });

  it("uses the socket= path as given", () => {
    const uri = parseLibvirtUri("qemu+ssh://h/system?socket=/var/run/libvirt/virtqemud-sock");
    expect(remoteCommandFor(uri, false, ROOT)).toBe(
      `sh -c '${NETCAT.replace(/libvirt-sock$/, "virtqemud-sock")}'`,
    );
  });

  it("sends an empty URI to virt-ssh-helper for the remote driver, as libvirt does", () => {
    const uri = parseLibvirtUri("remote+ssh://h/system?proxy=native");
    expect(remoteCommandFor(uri, false, ROOT)).toBe(`sh -c 'virt-ssh-helper '''\\'''\\'''''`);
  });

  it("uses name= for virt-ssh-helper when given", () => {
    const uri = parseLibvirtUri("qemu+ssh://h/system?name=qemu:///embed&proxy=native");
    expect(helperUri(uri)).toBe("qemu:///embed");
  });
});

describe("the default proxy", () => {
  it.each([
    ["qemu+ssh://h/system", ROOT, "auto"],
    ["qemu+ssh://h/system", USER, "auto"],
    ["qemu+ssh://h/session", USER, "native"],
    ["qemu+ssh://h/session", ROOT, "auto"],
    ["test+ssh://h/default", USER, "native"],
    ["qemu+ssh://h/system?socket=/s", USER, "netcat"],
    ["qemu+ssh://h/session?proxy=netcat", USER, "netcat"],
  ] as const)("%s (euid %#) → %s", (uri, env, expected) => {
    expect(defaultProxy(parseLibvirtUri(uri), env)).toBe(expected);
  });

  it("points nc at this user's session socket for a session URI, as libvirt does", () => {
    const uri = parseLibvirtUri("qemu+ssh://h/session?proxy=netcat");
    expect(remoteCommandFor(uri, false, USER)).toContain("-U /run/user/1000/libvirt/libvirt-sock'");
  });
});

describe("the remote command, run by a shell", () => {
  // A stand-in virt-ssh-helper and nc that print their arguments, one per line in brackets.
  let bin: string;
  beforeAll(() => {
    bin = mkdtempSync(join(tmpdir(), "vwtest-sshcmd-"));
    for (const name of ["virt-ssh-helper", "my nc"]) {
      writeFileSync(join(bin, name), '#!/bin/sh\nfor a in "$@"; do printf "[%s]\\n" "$a"; done\n');
      chmodSync(join(bin, name), 0o755);
    }
  });
  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  // sshd runs the command with the login shell: sh -c "<command>".
  const run = (command: string) =>
    execFileSync("/bin/sh", ["-c", command], {
      encoding: "utf8",
      env: { PATH: `${bin}:/usr/bin:/bin` },
    });

  it("gives virt-ssh-helper the URI with its parameters as one argument", () => {
    const uri = parseLibvirtUri("qemu+ssh://h/system?socket=/my%20sock&mode=legacy&proxy=native");
    expect(run(remoteCommandFor(uri, true, ROOT))).toBe(
      "[-r]\n[qemu:///system?socket=%2Fmy%20sock&mode=legacy]\n",
    );
  });

  it("runs a netcat path with a space in it", () => {
    const uri = parseLibvirtUri(`qemu+ssh://h/system?netcat=${encodeURIComponent(`${bin}/my nc`)}`);
    expect(run(remoteCommandFor(uri, false, ROOT))).toBe("[-U]\n[/var/run/libvirt/libvirt-sock]\n");
  });
});
