import { AuthError, CallTimeoutError, KeepaliveTimeoutError, StreamTimeoutError } from "../rpc";
import { describeError } from "./errors";

describe("describeError for deadlines", () => {
  it("names the procedure, the wait, refresh before retrying, and the stack config key to raise", () => {
    const error = describeError(
      new CallTimeoutError("StorageVolCreateXMLFrom", 3_600_000, "longCallTimeoutMs"),
      "creating volume disk1",
      "kvm2",
    );
    expect(error.message).toBe(
      "Creating volume disk1 on host kvm2 failed: libvirt did not answer StorageVolCreateXMLFrom " +
        "within 3600 s; the call was abandoned but may still complete on the host, so run pulumi " +
        "refresh before retrying. Check libvirtd there (its log; a hung QEMU process or storage), " +
        "or raise virtwire:hosts.kvm2.longCallTimeout (seconds) if it legitimately takes longer",
    );
    expect(error.cause).toBeInstanceOf(CallTimeoutError);
  });

  it("names the stream, what it waited for, and virtwire:streamIdleTimeout", () => {
    const error = describeError(
      new StreamTimeoutError("StorageVolUpload", 300_000, "room to send", "streamIdleTimeoutMs"),
      "creating volume disk1",
      "default",
    );
    expect(error.message).toBe(
      "Creating volume disk1 failed: the StorageVolUpload stream waited 300 s for room to send " +
        "from libvirt and was aborted. Check libvirtd and the volume's storage on the host, or " +
        "raise virtwire:streamIdleTimeout (seconds) if it legitimately takes longer",
    );
  });
});

describe("describeError for a daemon that stopped answering", () => {
  it("says what keepalive saw and names the keepalive keys of the host", () => {
    const error = describeError(
      new KeepaliveTimeoutError(30_000, 5, 5),
      "creating domain vm1",
      "kvm2",
    );
    expect(error.message).toBe(
      "Creating domain vm1 on host kvm2 failed: the libvirt daemon stopped answering: nothing " +
        "received for 30.0 s (5 keepalive PINGs at 5 s intervals unanswered); the connection was " +
        "closed. Check libvirtd on the host; if it is only slow to answer (a busy host or a slow " +
        "link), raise virtwire:hosts.kvm2.keepaliveInterval (seconds) or " +
        "virtwire:hosts.kvm2.keepaliveCount",
    );
  });
});

describe("describeError for logins", () => {
  it("tells refresh and destroy how to use a rotated credential or host key", () => {
    const login = new AuthError("the SSH host key of kvm2 is not the one pinned");
    const deleting = describeError(login, "deleting domain vm1", "kvm2").message;
    expect(deleting).toMatch(
      /^Deleting domain vm1 on host kvm2 failed: cannot log in to libvirt: /,
    );
    expect(deleting).toContain("run pulumi up first (it updates the provider)");
    expect(deleting).toContain("pulumi destroy --run-program");
    expect(describeError(login, "creating domain vm1", "kvm2").message).not.toContain(
      "run-program",
    );
  });
});
