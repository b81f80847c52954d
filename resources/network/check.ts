/**
 * Network rules beyond the schema, as libvirt 9 and dnsmasq apply them at define or start (each
 * verified against the test bed's daemon), so they fail the preview instead: addresses that are
 * addresses, DHCP ranges inside their subnet, in order, not on the network or broadcast address
 * and at most 65535 long, static hosts inside the subnet (by MAC for IPv4, by name for IPv6), DHCP
 * on one address per family, DNS hosts with an address and a name; for an `auto` address an IPv4
 * `within` that can hold its prefix, and no DHCP entries; an address on a network that forwards
 * (nat, route, open: "… forwarding requested, but no IP address provided", found by the
 * generated-inputs test for the default mode nat). Routes, DNS records, NAT ranges and port groups:
 * check-extras.ts. Values not known yet are skipped.
 */
import { UNKNOWN } from "../kit/check";
import type { CheckFailure } from "../kit/resource";
import type { NetworkAddress, NetworkDhcp, NetworkInputs } from "../kit/generated/types";
import { isAuto } from "./auto";
import { checkExtras } from "./check-extras";
import { Ip, Subnet, contains, formatSubnet, lastOf, parseIp, parseSubnet, subnetOf } from "./ip";

/** libvirt refuses a DHCP range of more addresses than this (virSocketAddrGetRange). */
const MAX_RANGE = 65535n;

type Fail = (property: string, reason: string) => void;

export function checkNetwork(inputs: NetworkInputs): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const fail: Fail = (property, reason) => failures.push({ property, reason });
  if (inputs.mode === "bridge" && !inputs.bridge?.name) {
    fail(
      "bridge.name",
      "bridge.name is required with mode bridge: give the existing host bridge to join, e.g. br0",
    );
  }
  if (inputs.mode === "bridge" && inputs.addresses?.length) {
    fail(
      "addresses",
      "addresses: a bridge-mode network has no addresses or DHCP of its own; remove addresses or use mode nat, route or isolated",
    );
  }
  if (inputs.mode === "bridge") bridgeModeRules(inputs, fail);
  if (typeof inputs.forwardDevice === "string" && !isUnknown(inputs.forwardDevice)) {
    const problem = interfaceNameProblem(inputs.forwardDevice);
    if (problem) {
      fail(
        "forwardDevice",
        `forwardDevice ${JSON.stringify(inputs.forwardDevice)} ${problem}: give the host interface the traffic leaves by, e.g. eth0`,
      );
    }
  }
  if (inputs.mode === "open" && inputs.forwardDevice) {
    fail(
      "forwardDevice",
      "forwardDevice is not used by an open network (libvirt puts no rule on where its traffic goes): remove it, or use mode nat or route",
    );
  }
  if (inputs.mode === "isolated" && inputs.forwardDevice) {
    fail(
      "forwardDevice",
      "forwardDevice is not used by an isolated network (no traffic leaves it): remove it, or use mode nat or route",
    );
  }
  const routed = inputs.mode === "nat" || inputs.mode === "route" || inputs.mode === "open";
  if (routed && !isUnknown(inputs.addresses) && !inputs.addresses?.length) {
    fail(
      "addresses",
      `addresses: ${inputs.mode === "open" ? "an" : "a"} ${inputs.mode} network needs the host's address on it (libvirt forwards the guests' traffic from that subnet), e.g. [{ address: "10.0.0.1", prefix: 24 }]; add one, or use mode isolated`,
    );
  }
  // Linux keeps no IPv6 address on a link with an MTU below 1280 (RFC 8200), and libvirt fails
  // the start with "Failed to add IP address" (found by the generated-inputs test).
  const v6 = (inputs.addresses ?? []).findIndex(
    (address) => !isUnknown(address) && parseIp(address.address)?.family === 6,
  );
  if (v6 >= 0 && typeof inputs.mtu === "number" && inputs.mtu < 1280) {
    fail(
      "mtu",
      `mtu ${inputs.mtu} is below 1280, the least IPv6 needs, and addresses[${v6}] is IPv6: raise mtu to at least 1280, or remove the IPv6 address`,
    );
  }
  const dhcpAt: Record<number, number> = {};
  (inputs.addresses ?? []).forEach((address, index) => {
    const path = `addresses[${index}]`;
    if (isUnknown(address) || isUnknown(address.address) || isUnknown(address.prefix)) return;
    if (isAuto(address)) {
      if (address.dhcp) dhcpAt[4] ??= index;
      return checkAuto(address, path, fail);
    }
    const ip = parseIp(address.address);
    if (!ip) {
      return fail(
        `${path}.address`,
        `${path}.address ${JSON.stringify(address.address)} is not an IPv4 or IPv6 address: give the host's address on the network, e.g. 10.0.0.1 or fd00::1`,
      );
    }
    if (ip.family === 4 && address.prefix > 32) {
      return fail(
        `${path}.prefix`,
        `${path}.prefix ${address.prefix} is too long for the IPv4 address ${address.address}: use at most 32, e.g. 24`,
      );
    }
    const subnet = subnetOf(ip, address.prefix);
    if (!hasDhcp(address.dhcp)) return;
    const first = dhcpAt[ip.family];
    if (first !== undefined) {
      fail(
        `${path}.dhcp`,
        `${path}.dhcp: libvirt serves DHCP on one IPv${ip.family} address per network, and addresses[${first}] has it already; keep dhcp on one of them`,
      );
    } else {
      dhcpAt[ip.family] = index;
    }
    if (ip.family === 6 && address.prefix < 64) {
      fail(
        `${path}.prefix`,
        `${path}.prefix ${address.prefix}: dnsmasq serves DHCPv6 only on a prefix of 64 or longer; use 64, or remove dhcp`,
      );
    }
    checkDhcp(address, ip, subnet, `${path}.dhcp`, fail);
  });
  (inputs.dnsHosts ?? []).forEach((host, index) => {
    const path = `dnsHosts[${index}]`;
    if (isUnknown(host)) return;
    if (!isUnknown(host.ip) && !parseIp(host.ip)) {
      fail(
        `${path}.ip`,
        `${path}.ip ${JSON.stringify(host.ip)} is not an IPv4 or IPv6 address: give the address the names resolve to`,
      );
    }
    if (Array.isArray(host.hostnames) && host.hostnames.length === 0) {
      fail(`${path}.hostnames`, `${path}.hostnames is empty: give at least one name`);
    }
    // libvirt drops an empty name (and the next up saw a change), and dnsmasq's hosts file, which
    // libvirt writes these into, splits a name at blanks (found by the generated-inputs test).
    (Array.isArray(host.hostnames) ? host.hostnames : []).forEach((name, at) => {
      if (typeof name !== "string" || isUnknown(name) || (name !== "" && !/\s/.test(name))) return;
      fail(
        `${path}.hostnames[${at}]`,
        `${path}.hostnames[${at}] ${JSON.stringify(name)} ${name === "" ? "is empty" : "has a blank in it"}: give a host name such as web or web.lab.internal`,
      );
    });
  });
  checkExtras(inputs, fail);
  return failures;
}

/**
 * Why `name` cannot be a Linux network interface name (the kernel's dev_valid_name: 1 to 15
 * bytes, no blank, '/' or ':', not "." or ".."); undefined when it can. A blank would also reach
 * libvirt as a space (XML turns tabs and line breaks in attributes into spaces), so the network
 * read back with another device, and every up replaced it (found by the generated-inputs test).
 */
export function interfaceNameProblem(name: string): string | undefined {
  if (name === "" || Buffer.byteLength(name) > 15) return "is not 1 to 15 bytes long";
  if (/[\s/:]/.test(name)) return "has a blank, '/' or ':' in it";
  if (name === "." || name === "..") return "is not an interface name";
  return undefined;
}

/**
 * A bridge-mode network joins a host bridge that exists already: libvirt refuses at define what
 * only a bridge it makes itself could have (found by the generated-inputs test: an MTU).
 */
function bridgeModeRules(inputs: NetworkInputs, fail: Fail): void {
  const joins = `a bridge-mode network joins the host bridge ${inputs.bridge?.name ?? "bridge.name"} as it is`;
  if (inputs.mtu !== undefined) {
    fail("mtu", `mtu: ${joins}; set the MTU on that bridge, and remove mtu`);
  }
  for (const setting of ["stp", "delay"] as const) {
    if (inputs.bridge?.[setting] !== undefined && inputs.bridge[setting] !== 0) {
      fail(
        `bridge.${setting}`,
        `bridge.${setting}: ${joins}, and libvirt sets STP only on bridges it makes (modes nat, route, open and isolated); remove bridge.${setting}`,
      );
    }
  }
  if (inputs.forwardDevice) {
    fail(
      "forwardDevice",
      `forwardDevice: ${joins}; a forward device is for modes nat and route: remove it`,
    );
  }
  if (inputs.domain !== undefined) {
    fail("domain", `domain: ${joins}, with no DNS of libvirt's: remove domain`);
  }
  if (inputs.dnsHosts?.length) {
    fail("dnsHosts", `dnsHosts: ${joins}, with no DNS of libvirt's: remove dnsHosts`);
  }
}

function checkDhcp(address: NetworkAddress, ip: Ip, subnet: Subnet, path: string, fail: Fail) {
  const within = `${address.address}/${address.prefix} (${formatSubnet(subnet)})`;
  const known = (text: unknown) => !isUnknown(text);
  const member = (text: string, property: string, what: string): Ip | undefined => {
    const member = parseIp(text);
    if (!member) {
      fail(property, `${property} ${JSON.stringify(text)} is not an IP address: give ${what}`);
    } else if (member.family !== ip.family) {
      fail(
        property,
        `${property} ${text} is an IPv${member.family} address on the IPv${ip.family} network ${within}: give an IPv${ip.family} address`,
      );
    } else if (!contains(subnet, member)) {
      fail(property, `${property} ${text} is outside ${within}: give an address inside it`);
    } else {
      return member;
    }
    return undefined;
  };
  (address.dhcp?.ranges ?? []).forEach((range, index) => {
    const at = `${path}.ranges[${index}]`;
    if (isUnknown(range) || !known(range.start) || !known(range.end)) return;
    // One line per range: its end is looked at once its start is fine.
    const start = member(range.start, `${at}.start`, `an address inside ${within}`);
    const end = start && member(range.end, `${at}.end`, `an address inside ${within}`);
    if (!start || !end) return;
    if (start.value > end.value) {
      return fail(
        at,
        `${at} runs backwards, from ${range.start} down to ${range.end}: swap start and end`,
      );
    }
    if (ip.family === 4 && subnet.prefix < 31) {
      if (start.value === subnet.base) {
        fail(
          `${at}.start`,
          `${at}.start ${range.start} is the network address of ${within}: start at least one higher`,
        );
      }
      if (end.value === lastOf(subnet)) {
        fail(
          `${at}.end`,
          `${at}.end ${range.end} is the broadcast address of ${within}: end at least one lower`,
        );
      }
    }
    if (end.value - start.value + 1n > MAX_RANGE) {
      fail(
        at,
        `${at} ${range.start} - ${range.end} holds ${end.value - start.value + 1n} addresses; libvirt takes at most 65535 per range: split it or make it smaller`,
      );
    }
  });
  const macs = new Map<string, number>();
  (address.dhcp?.hosts ?? []).forEach((host, index) => {
    const at = `${path}.hosts[${index}]`;
    if (isUnknown(host)) return;
    if (known(host.ip)) {
      const hostIp = member(host.ip, `${at}.ip`, `the address this guest gets, inside ${within}`);
      if (hostIp && hostIp.value === ip.value) {
        fail(
          `${at}.ip`,
          `${at}.ip ${host.ip} is the host's own address on this network: give the guest another one`,
        );
      }
    }
    // XML turns a tab or line break in an attribute into a space: the host would read back with
    // another name, and every up would change it.
    if (typeof host.name === "string" && !isUnknown(host.name) && /[\t\n\r]/.test(host.name)) {
      fail(
        `${at}.name`,
        `${at}.name ${JSON.stringify(host.name)} has a tab or line break in it: give a host name such as web1`,
      );
    }
    if (ip.family === 6) {
      if (host.mac) {
        fail(
          `${at}.mac`,
          `${at}.mac: libvirt does not match IPv6 hosts by MAC address; remove mac and give name (the guest's host name)`,
        );
      } else if (!host.name) {
        fail(`${at}.name`, `${at}.name is required for an IPv6 host: give the guest's host name`);
      }
      return;
    }
    if (!host.mac) {
      return fail(
        `${at}.mac`,
        `${at}.mac is required for an IPv4 host: give the guest's MAC address, e.g. 52:54:00:12:34:56`,
      );
    }
    if (isUnknown(host.mac)) return;
    const mac = host.mac.toLowerCase();
    if (parseInt(mac.slice(0, 2), 16) % 2 === 1) {
      fail(
        `${at}.mac`,
        `${at}.mac ${host.mac} is a multicast address, which libvirt refuses: the first byte must be even (e.g. 52:54:00:…)`,
      );
    }
    const first = macs.get(mac);
    if (first !== undefined) {
      fail(
        `${at}.mac`,
        `${at}.mac ${host.mac} is already given to ${path}.hosts[${first}]: one entry per guest`,
      );
    } else {
      macs.set(mac, index);
    }
  });
}

/** An `auto` address (auto.ts): an IPv4 subnet inside `within`, DHCP over all of it or none. */
function checkAuto(address: NetworkAddress, path: string, fail: Fail) {
  if (isUnknown(address.within)) return;
  const within = parseSubnet(address.within);
  if (!within || within.family !== 4) {
    return fail(
      `${path}.within`,
      `${path}.within ${JSON.stringify(address.within)} is not an IPv4 subnet: give the range auto chooses from, e.g. 10.112.0.0/12`,
    );
  }
  if (address.prefix > 30) {
    return fail(
      `${path}.prefix`,
      `${path}.prefix ${address.prefix} leaves no address for a guest: use at most 30 with auto, e.g. 24`,
    );
  }
  if (address.prefix < within.prefix) {
    return fail(
      `${path}.prefix`,
      `${path}.prefix ${address.prefix} is shorter than within ${address.within}'s ${within.prefix}: auto chooses a subnet inside within; use a longer prefix, e.g. 24, or a larger within`,
    );
  }
  if (address.dhcp?.ranges?.length || address.dhcp?.hosts?.length) {
    fail(
      `${path}.dhcp`,
      `${path}.dhcp: with address auto the subnet is not known in advance, so neither are DHCP ranges or hosts: give dhcp: {} to hand out the whole subnet, or give a fixed address`,
    );
  }
}

function hasDhcp(dhcp: NetworkDhcp | undefined): boolean {
  return Boolean(dhcp && (dhcp.ranges?.length || dhcp.hosts?.length));
}

function isUnknown(value: unknown): boolean {
  return value === UNKNOWN;
}
