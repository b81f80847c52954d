import {
  SocketEnvironment,
  localSocketPath,
  remoteSocketPath,
  wantsSessionDaemon,
} from "./sockets";
import { parseLibvirtUri } from "./uri";

const env = (euid: number, existing: string[] = []): SocketEnvironment => ({
  euid,
  runtimeDir: `/run/user/${euid}`,
  exists: (path) => existing.includes(path),
});

describe("the unix transport's socket", () => {
  it.each([
    ["qemu:///system", env(0), false, "/var/run/libvirt/libvirt-sock"],
    ["qemu:///system", env(0), true, "/var/run/libvirt/libvirt-sock-ro"],
    [
      "qemu:///system",
      env(0, ["/var/run/libvirt/virtqemud-sock"]),
      false,
      "/var/run/libvirt/virtqemud-sock",
    ],
    [
      "network:///system",
      env(0, ["/var/run/libvirt/virtqemud-sock"]),
      false,
      "/var/run/libvirt/libvirt-sock",
    ],
    ["qemu:///system?mode=direct", env(0), true, "/var/run/libvirt/virtqemud-sock-ro"],
    [
      "qemu:///system?mode=legacy",
      env(0, ["/var/run/libvirt/virtqemud-sock"]),
      false,
      "/var/run/libvirt/libvirt-sock",
    ],
    ["qemu:///system?socket=/tmp/s", env(0), true, "/tmp/s"],
    [
      "remote:///system",
      env(0, ["/var/run/libvirt/virtremoted-sock"]),
      false,
      "/var/run/libvirt/libvirt-sock",
    ],
    // A session URI means the per-user daemon only for non-root users; it has no -ro socket.
    ["qemu:///session", env(1000), true, "/run/user/1000/libvirt/libvirt-sock"],
    [
      "qemu:///session",
      env(1000, ["/run/user/1000/libvirt/virtqemud-sock"]),
      false,
      "/run/user/1000/libvirt/virtqemud-sock",
    ],
    ["qemu:///session", env(0), false, "/var/run/libvirt/libvirt-sock"],
  ])("%s (euid %#) → %s", (uri, environment, readOnly, expected) => {
    expect(localSocketPath(parseLibvirtUri(uri), readOnly, environment)).toBe(expected);
  });
});

describe("the socket nc connects to on the remote host", () => {
  it("is the legacy socket whatever exists locally, or socket=", () => {
    const local = env(0, ["/var/run/libvirt/virtqemud-sock"]);
    expect(remoteSocketPath(parseLibvirtUri("qemu+ssh://h/system"), false, local)).toBe(
      "/var/run/libvirt/libvirt-sock",
    );
    expect(remoteSocketPath(parseLibvirtUri("qemu+ssh://h/system"), true, local)).toBe(
      "/var/run/libvirt/libvirt-sock-ro",
    );
    expect(remoteSocketPath(parseLibvirtUri("qemu+ssh://h/system?socket=/s"), false, local)).toBe(
      "/s",
    );
  });
});

describe("wantsSessionDaemon", () => {
  it("follows libvirt's REMOTE_DRIVER_OPEN_USER rule", () => {
    expect(wantsSessionDaemon(parseLibvirtUri("qemu:///session"), env(1000))).toBe(true);
    expect(wantsSessionDaemon(parseLibvirtUri("qemu:///session"), env(0))).toBe(false);
    expect(wantsSessionDaemon(parseLibvirtUri("test+tcp://h/default"), env(1000))).toBe(true);
    expect(wantsSessionDaemon(parseLibvirtUri("test:///default"), env(1000))).toBe(false);
    expect(wantsSessionDaemon(parseLibvirtUri("qemu:///system"), env(1000))).toBe(false);
  });
});
