import { checkNwFilter } from "./check";
import type { NwFilterRule } from "../kit/generated/types";

const rule = (protocol: string, match: NwFilterRule["match"]): NwFilterRule => ({
  action: "accept",
  direction: "in",
  protocol,
  match,
});
const failures = (...rules: NwFilterRule[]) => checkNwFilter({ rules });

describe("the NwFilter checks", () => {
  it("pass rules whose attributes their protocols take, variables included", () => {
    expect(
      failures(
        rule("tcp", { srcipaddr: "$IP", dstportstart: 22, dstportend: 23, state: "NEW" }),
        rule("ipv6", { dstipaddr: "fd00::5", dstipmask: 64, protocol: "udp", dstportstart: 53 }),
        rule("mac", { srcmacaddr: "52:54:00:00:00:01", protocolid: "arp" }),
      ),
    ).toEqual([]);
  });

  it("name an attribute the rule's protocol does not take, and what it takes", () => {
    expect(failures(rule("mac", { dstportstart: 22 }))).toEqual([
      {
        property: "rules[0].match.dstportstart",
        reason: expect.stringMatching(/a mac rule has no dstportstart \(it takes srcmacaddr, /),
      },
    ]);
  });

  it("refuse an address of the other IP family, and an IPv4 prefix past 32", () => {
    const found = failures(rule("tcp", { srcipaddr: "fd00::1", srcipmask: 64 }));
    expect(found.map((failure) => failure.property)).toEqual([
      "rules[0].match.srcipaddr",
      "rules[0].match.srcipmask",
    ]);
  });

  it("refuse a port range that ends before it starts, or has no start", () => {
    expect(failures(rule("udp", { dstportstart: 80, dstportend: 79, srcportend: 5 }))).toEqual([
      expect.objectContaining({ property: "rules[0].match.srcportend" }),
      expect.objectContaining({ property: "rules[0].match.dstportend" }),
    ]);
  });

  it("ask for a layer 4 protocol when an ip rule matches ports", () => {
    expect(failures(rule("ip", { dstportstart: 22 }))).toEqual([
      expect.objectContaining({
        property: "rules[0].match.protocol",
        reason: expect.stringMatching(/set match.protocol to tcp or udp/),
      }),
    ]);
  });

  it("refuse a priority for the root chain, which libvirt drops", () => {
    expect(checkNwFilter({ priority: -500 })).toEqual([
      expect.objectContaining({ property: "priority", reason: expect.stringMatching(/set chain/) }),
    ]);
    expect(checkNwFilter({ chain: "ipv4-web", priority: -500 })).toEqual([]);
  });
});
