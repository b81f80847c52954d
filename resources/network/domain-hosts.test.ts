import type { NetworkAddress, NetworkDhcpHost } from "../kit/generated/types";
import { hostKey, listEdit } from "./changes";
import { undeclaredHosts, withoutClaimed } from "./domain-hosts";

const web = { mac: "52:54:00:AA:BB:01", ip: "10.9.0.5", name: "web" };
const vm = { mac: "52:54:00:aa:bb:02", ip: "10.9.0.6", name: "vm" };
const byHand = { mac: "52:54:00:aa:bb:03", ip: "10.9.0.7" };
const v6 = { ip: "fd00::5", name: "six" };

const withHosts = (...hosts: NetworkDhcpHost[]): NetworkAddress[] => [
  { address: "10.9.0.1", prefix: 24, dhcp: { ranges: [], hosts } },
];

describe("DHCP hosts a domain made on a network", () => {
  it("are looked for only when the network has hosts its inputs do not declare", () => {
    expect(
      undeclaredHosts(withHosts(web), withHosts({ ...web, mac: "52:54:00:aa:bb:01" })),
    ).toEqual([]);
    expect(undeclaredHosts(withHosts(web, vm), withHosts(web))).toEqual([vm]);
    expect(undeclaredHosts(withHosts(web), undefined)).toEqual([web]);
    expect(undeclaredHosts([{ address: "10.9.0.1", prefix: 24 }], undefined)).toEqual([]);
  });

  it("are left out of what the network reports, whatever the case of the MAC", () => {
    const claims = new Set(["52:54:00:aa:bb:02"]);
    const read = withoutClaimed(
      withHosts(web, { ...vm, mac: "52:54:00:AA:BB:02" }),
      withHosts(web),
      claims,
    );
    expect(read[0]!.dhcp?.hosts).toEqual([web]);
  });

  it("stay reported when the inputs declare them, and hosts made by hand stay drift", () => {
    const claims = new Set(["52:54:00:aa:bb:02", "52:54:00:aa:bb:01"]);
    const read = withoutClaimed(withHosts(web, vm, byHand, v6), withHosts(web), claims);
    expect(read[0]!.dhcp?.hosts).toEqual([web, byHand, v6]);
    expect(read[0]!.dhcp?.ranges).toEqual([]);
  });

  it("are removed when the inputs declared them and no longer do, though a domain claims the MAC", () => {
    const claims = new Set(["52:54:00:aa:bb:02"]);
    const [state] = withoutClaimed(withHosts(web, vm), withHosts(web, vm), claims);
    const [inputs] = withHosts(web);
    expect(listEdit(state!.dhcp?.hosts, inputs!.dhcp?.hosts, hostKey).remove).toEqual([vm]);
  });

  it("leave an address without DHCP as it is", () => {
    const plain = [{ address: "10.9.0.1", prefix: 24 }];
    expect(withoutClaimed(plain, undefined, new Set(["52:54:00:aa:bb:02"]))).toEqual(plain);
  });
});
