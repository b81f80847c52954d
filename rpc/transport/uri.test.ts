import { UriError } from "../errors";
import { driverUri, parseLibvirtUri, parseSshAuth, redact, uriFlag } from "./uri";

describe("parseLibvirtUri", () => {
  it.each([
    // uri, transport, host, port, user, path, name
    ["qemu:///system", "unix", undefined, undefined, undefined, "/system", "qemu:///system"],
    ["qemu:///session", "unix", undefined, undefined, undefined, "/session", "qemu:///session"],
    ["qemu+unix:///system", "unix", undefined, undefined, undefined, "/system", "qemu:///system"],
    ["qemu://kvm1/system", "tls", "kvm1", undefined, undefined, "/system", "qemu:///system"],
    ["qemu+tls://kvm1:1234/system", "tls", "kvm1", 1234, undefined, "/system", "qemu:///system"],
    [
      "qemu+tcp://10.0.0.1/system",
      "tcp",
      "10.0.0.1",
      undefined,
      undefined,
      "/system",
      "qemu:///system",
    ],
    ["qemu+tcp:///system", "tcp", undefined, undefined, undefined, "/system", "qemu:///system"],
    ["qemu+ssh://root@kvm1/system", "ssh", "kvm1", undefined, "root", "/system", "qemu:///system"],
    ["qemu+SSH://root@kvm1:2222/system", "ssh", "kvm1", 2222, "root", "/system", "qemu:///system"],
    ["qemu+libssh2://u@h/system", "libssh2", "h", undefined, "u", "/system", "qemu:///system"],
    ["qemu+libssh://u@h/system", "libssh", "h", undefined, "u", "/system", "qemu:///system"],
    ["qemu+ssh://[::1]:2222/system", "ssh", "::1", 2222, undefined, "/system", "qemu:///system"],
    [
      "qemu+tls://[fe80::1%25eth0]/system",
      "tls",
      "fe80::1%eth0",
      undefined,
      undefined,
      "/system",
      "qemu:///system",
    ],
    ["qemu+ssh://ad%6Din@h/system", "ssh", "h", undefined, "admin", "/system", "qemu:///system"],
    ["qemu+ssh://h:/system", "ssh", "h", undefined, undefined, "/system", "qemu:///system"],
    ["test:///default", "unix", undefined, undefined, undefined, "/default", "test:///default"],
    ["lxc:///", "unix", undefined, undefined, undefined, "/", "lxc:///"],
    ["remote:///system", "unix", undefined, undefined, undefined, "/system", ""],
    ["remote+ssh://h/system", "ssh", "h", undefined, undefined, "/system", ""],
    [
      "qemu+ssh://h/system?name=qemu:///session",
      "ssh",
      "h",
      undefined,
      undefined,
      "/system",
      "qemu:///session",
    ],
    [
      "qemu:///system#frag",
      "unix",
      undefined,
      undefined,
      undefined,
      "/system",
      "qemu:///system#frag",
    ],
  ])("%s", (uri, transport, host, port, user, path, name) => {
    const parsed = parseLibvirtUri(uri);
    expect(parsed).toMatchObject({ uri, transport, host, port, user, path, name });
  });

  it("splits the driver from the transport and keeps the scheme", () => {
    expect(parseLibvirtUri("network+ssh://h/system")).toMatchObject({
      scheme: "network+ssh",
      driver: "network",
      name: "network:///system",
    });
  });

  it("keeps client parameters out of the name and decodes their values", () => {
    const parsed = parseLibvirtUri(
      "qemu+ssh://h/system?keyfile=/home/a%20b/id+1&no_verify=1;known_hosts_verify=auto&SOCKET=/s",
    );
    expect(parsed.name).toBe("qemu:///system");
    expect(parsed.params).toEqual({
      keyfile: "/home/a b/id+1",
      no_verify: "1",
      known_hosts_verify: "auto",
      socket: "/s",
    });
    expect(parsed.paramList.map((p) => p.name)).toEqual([
      "keyfile",
      "no_verify",
      "known_hosts_verify",
      "SOCKET",
    ]);
  });

  it("lets the last of a repeated parameter win, treats a bare name as empty, skips =value", () => {
    const parsed = parseLibvirtUri("qemu+tls://h/system?pkipath=/a&pkipath=/b&authfile&=x&&");
    expect(parsed.params).toEqual({ pkipath: "/b", authfile: "" });
  });

  it.each([
    ["qemu+unix://host/system", /names a host/],
    ["qemu+smoke://h/system", /unknown transport "smoke".*tls, tcp|unix, tcp, tls/],
    ["qemu+tls://h:0/system", /port 0 .* out of range/],
    ["qemu+tls://h:70000/system", /out of range/],
    ["qemu:/system", /cannot parse libvirt URI/],
    ["/var/run/libvirt/libvirt-sock", /cannot parse/],
    ["qemu+ssh://[kvm1]/system", /not an IPv6 address/],
    ["qemu+ssh://h%zz/system", /host .* malformed %-escape/],
    ["qemu:///system?keyfile=%", /value of keyfile .* malformed %-escape/],
    ["qemu:///system?mode=fast", /mode=fast .* use auto, legacy, direct/],
    ["qemu+ssh://h/system?proxy=socat", /proxy=socat .* use auto, netcat, native/],
    [
      "qemu+ssh://h/system?known_hosts_verify=yes",
      /known_hosts_verify=yes .* normal, auto, ignore/,
    ],
    ["qemu+ssh://h/system?no_verify=yes", /no_verify=yes .* not an integer/],
    ["qemu+ssh://h/system?sshauth=agent,kerberos", /unknown method "kerberos"/],
    ["qemu+ssh://h/system?proxy=native&netcat=/bin/nc", /netcat= with proxy=native/],
    ["qemu+ssh://h/system?mode=direct", /mode=direct cannot be used with the ssh transport/],
    ["qemu+libssh2://h/system?mode=direct", /libssh2 transport/],
    ["remote:///system?mode=direct", /mode=direct needs a driver/],
    ["qemu+ext:///system", /ext transport needs command=/],
  ])("refuses %s", (uri, message) => {
    expect(() => parseLibvirtUri(uri)).toThrow(UriError);
    expect(() => parseLibvirtUri(uri)).toThrow(message);
  });

  it("accepts mode=direct over ssh when socket= names the socket, and for tcp/tls ignores it", () => {
    expect(() => parseLibvirtUri("qemu+ssh://h/system?mode=direct&socket=/s")).not.toThrow();
    expect(() => parseLibvirtUri("qemu+tls://h/system?mode=direct")).not.toThrow();
    expect(() => parseLibvirtUri("qemu:///system?mode=direct")).not.toThrow();
  });

  it("names an unknown parameter and lists the supported ones", () => {
    const call = () => parseLibvirtUri("qemu+ssh://h/system?no_verfy=1");
    expect(call).toThrow(UriError);
    expect(call).toThrow(/unknown parameter "no_verfy"/);
    expect(call).toThrow(
      /supported parameters are name, socket, mode, proxy, netcat, command, keyfile/,
    );
  });

  it("refuses a password in the user part without repeating it", () => {
    let error: unknown;
    try {
      parseLibvirtUri("qemu+ssh://root:s3cr3t-pw@kvm1/system");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UriError);
    expect((error as Error).message).toMatch(/carries a password/);
    expect((error as Error).message).not.toContain("s3cr3t-pw");
    expect((error as Error).message).toContain("root:***@kvm1");
  });

  it("never repeats a password in any parse error", () => {
    for (const uri of [
      "qemu+ssh://u:s3cr3t-pw@h/system?bogus=1",
      "qemu+smoke://u:s3cr3t-pw@h/system",
      "qemu+ssh://u:s3cr3t-pw@h:99999/system",
      "qemu+ssh://u:s3cr/3t-pw@h/system",
    ]) {
      expect(() => parseLibvirtUri(uri)).toThrow(UriError);
      try {
        parseLibvirtUri(uri);
      } catch (error) {
        expect((error as Error).message).not.toMatch(/s3cr|3t-pw/);
      }
    }
  });
});

describe("redact", () => {
  it.each([
    ["qemu+ssh://u:pw@h/system", "qemu+ssh://u:***@h/system"],
    ["qemu+ssh://u:p@ss@h/system", "qemu+ssh://u:***@h/system"],
    ["qemu+ssh://u:p/w@h/system?x=1", "qemu+ssh://u:***@h/system?x=1"],
    ["qemu+ssh://u@h/system", "qemu+ssh://u@h/system"],
    ["qemu:///system?keyfile=/a@b", "qemu:///system?keyfile=/a@b"],
    ["not a uri", "not a uri"],
  ])("%s → %s", (uri, expected) => {
    expect(redact(uri)).toBe(expected);
  });
});

describe("uriFlag and driverUri", () => {
  it("reads integer flags as libvirt does", () => {
    expect(uriFlag(parseLibvirtUri("qemu+ssh://h/s?no_verify=1"), "no_verify")).toBe(true);
    expect(uriFlag(parseLibvirtUri("qemu+ssh://h/s?no_verify=0"), "no_verify")).toBe(false);
    expect(uriFlag(parseLibvirtUri("qemu+ssh://h/s?no_verify=-1"), "no_verify")).toBe(true);
    expect(uriFlag(parseLibvirtUri("qemu+ssh://h/s"), "no_verify")).toBe(false);
  });

  it("keeps only the named parameters, in their order and spelling, escaped like GLib", () => {
    const uri = parseLibvirtUri("qemu+ssh://h/system?socket=/run/my%20sock&keyfile=/k&Mode=legacy");
    expect(driverUri(uri, ["mode", "socket"])).toBe(
      "qemu:///system?socket=%2Frun%2Fmy%20sock&Mode=legacy",
    );
    expect(driverUri(uri, [])).toBe("qemu:///system");
  });
});

describe("parseSshAuth", () => {
  it("returns the methods in order", () => {
    expect(parseSshAuth("password,agent")).toEqual(["password", "agent"]);
    expect(parseSshAuth("keyboard-interactive")).toEqual(["keyboard-interactive"]);
  });

  it("refuses an empty list", () => {
    expect(() => parseSshAuth("")).toThrow(/unknown method ""/);
  });
});
