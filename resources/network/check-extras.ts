/**
 * Preview rules for routes, DNS records and forwarders, NAT ranges and port groups, as libvirt 9.0
 * and 11.3 apply them at define or start (each seen refused by the test bed's daemons):
 * "Address … in route definition is not a network address", "unreachable static route gateway",
 * "ipv6 specified for non-IPv6 gateway address", "DNS SRV port attribute not permitted without
 * target", "missing 'end' attribute in <address> element in <nat>", "range … is reversed", "The
 * <nat> element can only be used when <forward> 'mode' is 'nat'", "must contain at least one of
 * addr or domain". A bridge-mode network has no dnsmasq and no addresses of libvirt's, so none of
 * these apply to it. Values not known yet are skipped.
 */
import { UNKNOWN } from "../kit/check";
import type { NetworkInputs } from "../kit/generated/types";
import { contains, formatSubnet, parseIp, subnetOf } from "./ip";

type Fail = (property: string, reason: string) => void;

const unknown = (value: unknown) => value === UNKNOWN;
const given = (value: unknown) => value !== undefined && value !== null && !unknown(value);

export function checkExtras(inputs: NetworkInputs, fail: Fail): void {
  if (inputs.mode === "bridge") {
    const joins = `a bridge-mode network joins the host bridge ${inputs.bridge?.name ?? "bridge.name"} as it is, with no addresses or DNS of libvirt's`;
    for (const name of [
      "routes",
      "dnsForwarders",
      "dnsSrvRecords",
      "dnsTxtRecords",
      "dnsmasqOptions",
    ] as const) {
      if ((inputs[name]?.length ?? 0) > 0) fail(name, `${name}: ${joins}: remove ${name}`);
    }
  }
  if (inputs.dnsLocalOnly === true && !given(inputs.domain)) {
    fail(
      "dnsLocalOnly",
      "dnsLocalOnly keeps the names under the network's domain from going upstream, and no domain is set: give domain (e.g. lab.internal), or remove dnsLocalOnly",
    );
  }
  checkRoutes(inputs, fail);
  checkNat(inputs, fail);
  (inputs.dnsForwarders ?? []).forEach((forwarder, index) => {
    const at = `dnsForwarders[${index}]`;
    if (unknown(forwarder) || !forwarder) return;
    if (!given(forwarder.address) && !given(forwarder.domain) && !unknown(forwarder.address)) {
      fail(
        at,
        `${at} has neither address nor domain: give the upstream server's address, a domain, or both`,
      );
    } else if (given(forwarder.address) && !parseIp(forwarder.address)) {
      fail(
        `${at}.address`,
        `${at}.address ${JSON.stringify(forwarder.address)} is not an IPv4 or IPv6 address: give the upstream DNS server's address, e.g. 10.0.0.53`,
      );
    }
  });
  (inputs.dnsSrvRecords ?? []).forEach((srv, index) => {
    const at = `dnsSrvRecords[${index}]`;
    if (unknown(srv) || !srv || given(srv.target) || unknown(srv.target)) return;
    for (const field of ["port", "priority", "weight"] as const) {
      if (typeof srv[field] === "number" && srv[field] !== 0) {
        fail(
          `${at}.${field}`,
          `${at}.${field}: a record without target says the service is not offered, and libvirt takes no ${field} for it: give target (the host offering ${srv.service}), or remove ${field}`,
        );
      }
    }
  });
  checkPortGroups(inputs, fail);
  // dnsmasq stops at a keyword given twice ("illegal repeated keyword", found by the
  // generated-inputs test); what the options mean is dnsmasq's to judge.
  const lines = new Map<string, number>();
  (inputs.dnsmasqOptions ?? []).forEach((line, index) => {
    if (typeof line !== "string" || unknown(line)) return;
    const first = lines.get(line);
    if (first === undefined) return void lines.set(line, index);
    fail(
      `dnsmasqOptions[${index}]`,
      `dnsmasqOptions[${index}] ${JSON.stringify(line)} repeats dnsmasqOptions[${first}], and dnsmasq refuses to start with a repeated option: give it once`,
    );
  });
}

function checkRoutes(inputs: NetworkInputs, fail: Fail): void {
  const subnets = (inputs.addresses ?? []).flatMap((address) => {
    const ip = !unknown(address) && address ? parseIp(address.address) : undefined;
    return ip && typeof address.prefix === "number" ? [subnetOf(ip, address.prefix)] : [];
  });
  const autos = (inputs.addresses ?? []).some(
    (address) => unknown(address) || !parseIp(address?.address),
  );
  (inputs.routes ?? []).forEach((route, index) => {
    const at = `routes[${index}]`;
    if (unknown(route) || !route || unknown(route.address) || unknown(route.gateway)) return;
    const address = parseIp(route.address);
    const gateway = parseIp(route.gateway);
    if (!address) {
      return fail(
        `${at}.address`,
        `${at}.address ${JSON.stringify(route.address)} is not an IPv4 or IPv6 address: give the destination network's address, e.g. 10.40.0.0`,
      );
    }
    if (!gateway) {
      return fail(
        `${at}.gateway`,
        `${at}.gateway ${JSON.stringify(route.gateway)} is not an IPv4 or IPv6 address: give the guest's address the traffic goes to`,
      );
    }
    if (gateway.family !== address.family) {
      return fail(
        `${at}.gateway`,
        `${at}.gateway ${route.gateway} is IPv${gateway.family} and address ${route.address} is IPv${address.family}: give both in one family`,
      );
    }
    if (unknown(route.prefix) || typeof route.prefix !== "number") return;
    if (address.family === 4 && route.prefix > 32) {
      return fail(
        `${at}.prefix`,
        `${at}.prefix ${route.prefix} is too long for the IPv4 address ${route.address}: use at most 32`,
      );
    }
    const destination = subnetOf(address, route.prefix);
    if (destination.base !== address.value) {
      fail(
        `${at}.address`,
        `${at}.address ${route.address} is not the first address of its /${route.prefix} subnet: use ${formatSubnet(destination).split("/")[0]}`,
      );
    }
    if (!autos && !subnets.some((subnet) => contains(subnet, gateway))) {
      const own = subnets.map(formatSubnet).join(", ") || "none";
      fail(
        `${at}.gateway`,
        `${at}.gateway ${route.gateway} is outside the network's own subnets (${own}), so the host cannot reach it: give a guest's address on this network`,
      );
    }
  });
}

function checkNat(inputs: NetworkInputs, fail: Fail): void {
  const nat = inputs.nat;
  if (!nat || unknown(nat)) return;
  const mode = inputs.mode ?? "nat";
  if (mode !== "nat" && !unknown(mode)) {
    return fail(
      "nat",
      `nat: the network's mode is ${mode}, and only a nat network translates addresses: remove nat, or use mode nat`,
    );
  }
  const pair = (start: keyof typeof nat, end: keyof typeof nat, what: string) => {
    const [first, last] = [nat[start], nat[end]];
    if (unknown(first) || unknown(last)) return;
    if (given(first) !== given(last)) {
      const missing = given(first) ? end : start;
      fail(
        `nat.${missing}`,
        `nat.${missing} is missing: libvirt takes ${what} as a range; give both nat.${start} and nat.${end} (equal for a single one)`,
      );
      return undefined;
    }
    return given(first) ? [first, last] : undefined;
  };
  const addresses = pair("addressStart", "addressEnd", "addresses");
  if (addresses) {
    const [start, end] = addresses.map(parseIp);
    for (const [name, ip] of [
      ["addressStart", start],
      ["addressEnd", end],
    ] as const) {
      if (!ip || ip.family !== 4) {
        fail(
          `nat.${name}`,
          `nat.${name} ${JSON.stringify(nat[name])} is not an IPv4 address: give an address of the host, e.g. 192.0.2.10`,
        );
      }
    }
    if (start && end && start.value > end.value) {
      fail(
        "nat",
        `nat runs backwards, from ${nat.addressStart} down to ${nat.addressEnd}: swap addressStart and addressEnd`,
      );
    }
  }
  const ports = pair("portStart", "portEnd", "ports");
  if (ports && Number(ports[0]) > Number(ports[1])) {
    fail(
      "nat",
      `nat ports run backwards, from ${nat.portStart} down to ${nat.portEnd}: swap portStart and portEnd`,
    );
  }
}

function checkPortGroups(inputs: NetworkInputs, fail: Fail): void {
  const names = new Map<string, number>();
  let defaultAt: number | undefined;
  (inputs.portGroups ?? []).forEach((group, index) => {
    const at = `portGroups[${index}]`;
    if (unknown(group) || !group) return;
    if (typeof group.name === "string") {
      const first = names.get(group.name);
      if (first !== undefined) {
        fail(
          `${at}.name`,
          `${at}.name ${group.name} is the name of portGroups[${first}] too: give each port group its own name`,
        );
      } else {
        names.set(group.name, index);
      }
    }
    if (group.default === true) {
      if (defaultAt !== undefined) {
        fail(
          `${at}.default`,
          `${at}.default: portGroups[${defaultAt}] is the default already, and a network has at most one: keep default on one of them`,
        );
      } else {
        defaultAt = index;
      }
    }
  });
}
