import type { DomainNetworkInterface } from "../kit/generated/types";
import type { AddressLookup } from "./addresses";
import { waitStatus } from "./address-wait";

const onLab: DomainNetworkInterface = { network: "lab", mac: "52:54:00:00:00:01" };
const onBridge: DomainNetworkInterface = { bridge: "br0", mac: "52:54:00:00:00:02" };

const lookup = (found: Partial<AddressLookup> = {}): AddressLookup => ({
  byMac: new Map(),
  staleLeases: new Set(),
  ...found,
});

describe("the status line of the address wait", () => {
  it("says what is awaited, for how long, and what each interface shows so far", () => {
    const wait = { source: "lease", qemuAgent: false, timeoutSeconds: 300 } as const;
    expect(waitStatus([onLab], wait, lookup(), 12_400)).toBe(
      "waiting for IP addresses (waitForAddresses.source lease), 12 s of 300 s: 52:54:00:00:00:01 on network lab: no DHCP lease yet",
    );
  });

  it("tells a lease from before the start, and an agent that does not answer, from no answer at all", () => {
    const wait = { source: "any", qemuAgent: true, timeoutSeconds: 60 } as const;
    const found = lookup({
      staleLeases: new Set(["52:54:00:00:00:01"]),
      agentError: new Error("QEMU guest agent is not connected"),
    });
    expect(waitStatus([onLab, onBridge], wait, found, 5_000)).toBe(
      "waiting for IP addresses (waitForAddresses.source any), 5 s of 60 s: " +
        "52:54:00:00:00:01 on network lab: only its lease from before this start, the guest agent does not answer yet; " +
        "52:54:00:00:00:02 on bridge br0: the guest agent does not answer yet",
    );
  });

  it("shows the addresses already found", () => {
    const wait = { source: "any", qemuAgent: true, timeoutSeconds: 60 } as const;
    const found = lookup({ byMac: new Map([["52:54:00:00:00:01", ["10.0.0.5"]]]) });
    expect(waitStatus([onLab, onBridge], wait, found, 0)).toBe(
      "waiting for IP addresses (waitForAddresses.source any), 0 s of 60 s: " +
        "52:54:00:00:00:01 on network lab: 10.0.0.5; " +
        "52:54:00:00:00:02 on bridge br0: the guest agent reports no address yet",
    );
  });
});
