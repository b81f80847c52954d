import type { NetworkAddress, NetworkInputs } from "../kit/generated/types";
import { freeSubnet, keepChosen } from "./auto";
import { checkNetwork } from "./check";
import { formatSubnet, parseSubnet } from "./ip";

const subnet = (text: string) => parseSubnet(text)!;
const auto = (fields: Partial<NetworkAddress> = {}): NetworkAddress => ({
  address: "auto",
  prefix: 24,
  within: "10.112.0.0/12",
  ...fields,
});

describe("choosing a free subnet", () => {
  it("chooses inside within, avoiding every subnet taken", () => {
    const within = subnet("10.120.8.0/22");
    const taken = [subnet("10.120.8.0/24"), subnet("10.120.10.0/23")];
    for (let i = 0; i < 20; i++) {
      expect(formatSubnet(freeSubnet(within, 24, taken)!)).toBe("10.120.9.0/24");
    }
  });

  it("chooses at random among the free ones, so that creates at the same moment rarely agree", () => {
    const chosen = new Set(
      Array.from({ length: 50 }, () => formatSubnet(freeSubnet(subnet("10.112.0.0/12"), 24, [])!)),
    );
    expect(chosen.size).toBeGreaterThan(40);
  });

  it("finds none when every subnet is taken, also by a larger one", () => {
    expect(freeSubnet(subnet("10.120.8.0/22"), 24, [subnet("10.120.0.0/16")])).toBeUndefined();
  });

  it("tries at random in a space too large to list", () => {
    const found = freeSubnet(subnet("10.0.0.0/8"), 30, [subnet("10.0.0.0/9")])!;
    expect(found.prefix).toBe(30);
    expect(formatSubnet(found)).toMatch(/^10\.(12[89]|1[3-9]\d|2[0-5]\d)\./);
  });
});

describe("an auto address the network already has", () => {
  const current: NetworkAddress[] = [
    {
      address: "10.113.7.1",
      prefix: 24,
      dhcp: { ranges: [{ start: "10.113.7.2", end: "10.113.7.254" }], hosts: [] },
    },
  ];

  it("is the subnet the network has, with its DHCP range", () => {
    expect(keepChosen([auto({ dhcp: {} })], current)).toEqual([
      { address: "10.113.7.1", prefix: 24, dhcp: { ranges: current[0]!.dhcp!.ranges } },
    ]);
  });

  it("loses its DHCP range without dhcp, and gets the whole subnet's with it", () => {
    expect(keepChosen([auto()], current)).toEqual([{ address: "10.113.7.1", prefix: 24 }]);
    expect(keepChosen([auto({ dhcp: {} })], [{ address: "10.113.7.1", prefix: 24 }])).toEqual([
      {
        address: "10.113.7.1",
        prefix: 24,
        dhcp: { ranges: [{ start: "10.113.7.2", end: "10.113.7.254" }] },
      },
    ]);
  });

  it("stays auto, and so replaces the network, when the subnet no longer fits", () => {
    expect(keepChosen([auto({ prefix: 25 })], current)).toEqual([auto({ prefix: 25 })]);
    expect(keepChosen([auto({ within: "10.200.0.0/16" })], current)).toEqual([
      auto({ within: "10.200.0.0/16" }),
    ]);
    expect(keepChosen([auto()], [])).toEqual([auto()]);
  });

  it("leaves fixed addresses and values not known yet alone", () => {
    const fixed = { address: "10.5.0.1", prefix: 24 };
    expect(keepChosen([fixed], current)).toEqual([fixed]);
    expect(keepChosen(undefined, current)).toBeUndefined();
  });
});

describe("Network rules for auto", () => {
  const reasons = (addresses: NetworkAddress[]) =>
    checkNetwork({ mode: "nat", addresses } as NetworkInputs).map((failure) => failure.reason);

  it("accept an IPv4 subnet inside within, with or without DHCP", () => {
    expect(reasons([auto()])).toEqual([]);
    expect(reasons([auto({ dhcp: {} }), { address: "fd00::1", prefix: 64 }])).toEqual([]);
  });

  it.each([
    [auto({ within: "fd00::/48" }), /^addresses\[0\]\.within "fd00::\/48" is not an IPv4 subnet/],
    [auto({ within: "10.300.0.0/12" }), /is not an IPv4 subnet: give the range/],
    [auto({ prefix: 31 }), /^addresses\[0\]\.prefix 31 leaves no address for a guest/],
    [auto({ prefix: 8 }), /prefix 8 is shorter than within 10.112.0.0\/12's 12/],
    [
      auto({ dhcp: { ranges: [{ start: "10.112.0.2", end: "10.112.0.9" }] } }),
      /^addresses\[0\]\.dhcp: with address auto .* give dhcp: \{\}/,
    ],
  ])("refuse %j", (address, reason) => {
    expect(reasons([address])).toEqual([expect.stringMatching(reason)]);
  });

  it("count DHCP on an auto address as the IPv4 DHCP of the network", () => {
    const fixed = {
      address: "10.5.0.1",
      prefix: 24,
      dhcp: { ranges: [{ start: "10.5.0.10", end: "10.5.0.20" }] },
    };
    expect(reasons([auto({ dhcp: {} }), fixed])).toEqual([
      expect.stringMatching(/^addresses\[1\]\.dhcp: libvirt serves DHCP on one IPv4 address/),
    ]);
  });
});
