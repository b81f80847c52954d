/**
 * NwFilter rules beyond the schema: the match attributes each protocol takes (libvirt's
 * nwfilter_conf.c refuses the others with "unknown attribute"), addresses of the rule's IP family,
 * and port and prefix ranges that make sense. Variables (`$IP`) are filled in by libvirt per NIC and
 * are not checked here.
 */
import { isIPv4, isIPv6 } from "node:net";
import type { CheckFailure } from "../kit/resource";
import type { NwFilterInputs, NwFilterMatch, NwFilterRule } from "../kit/generated/types";

type Attribute = keyof NwFilterMatch;

const IP_MATCH: Attribute[] = ["srcipaddr", "srcipmask", "dstipaddr", "dstipmask"];
const PORTS: Attribute[] = ["srcportstart", "srcportend", "dstportstart", "dstportend"];

/** The attributes of virtwire's subset each protocol takes (a subset of libvirt's own lists). */
const PROTOCOL_ATTRIBUTES: Record<string, readonly Attribute[]> = {
  mac: ["srcmacaddr", "dstmacaddr", "protocolid", "comment"],
  arp: ["srcmacaddr", "dstmacaddr", "opcode", "arpsrcipaddr", "arpdstipaddr", "comment"],
  ip: ["srcmacaddr", "dstmacaddr", ...IP_MATCH, "protocol", ...PORTS, "comment"],
  ipv6: ["srcmacaddr", "dstmacaddr", ...IP_MATCH, "protocol", ...PORTS, "comment"],
  tcp: ["srcmacaddr", ...IP_MATCH, ...PORTS, "state", "comment"],
  udp: ["srcmacaddr", ...IP_MATCH, ...PORTS, "state", "comment"],
  icmp: ["srcmacaddr", ...IP_MATCH, "type", "code", "state", "comment"],
  all: ["srcmacaddr", ...IP_MATCH, "state", "comment"],
};

export function checkNwFilter(inputs: NwFilterInputs): CheckFailure[] {
  const failures = (inputs.rules ?? []).flatMap((rule, index) =>
    checkRule(rule, `rules[${index}]`),
  );
  // libvirt drops a root chain's priority without a word: every up would show it changed.
  if (inputs.priority !== undefined && (inputs.chain ?? "root") === "root") {
    failures.unshift({
      property: "priority",
      reason:
        "priority orders a chain among the root chain's entries and does nothing for the root chain itself: set chain (e.g. ipv4), or remove priority",
    });
  }
  return failures;
}

function checkRule(rule: NwFilterRule, at: string): CheckFailure[] {
  const taken = PROTOCOL_ATTRIBUTES[rule.protocol];
  if (!taken) return []; // the schema's pattern names the protocol
  const match = rule.match ?? {};
  const failures: CheckFailure[] = [];
  const fail = (name: string, reason: string) =>
    failures.push({ property: `${at}.match.${name}`, reason });
  for (const [name, value] of Object.entries(match)) {
    if (value === undefined || value === null) continue;
    if (!taken.includes(name as Attribute)) {
      fail(
        name,
        `a ${rule.protocol} rule has no ${name} (it takes ${taken.join(", ")}): remove it, or use a protocol that has it`,
      );
    }
  }
  const v6 = rule.protocol === "ipv6";
  const family = v6 ? "IPv6" : "IPv4";
  for (const name of ["srcipaddr", "dstipaddr"] as const) {
    const address = match[name];
    if (address === undefined || address.startsWith("$")) continue;
    if (!(v6 ? isIPv6(address) : isIPv4(address)))
      fail(
        name,
        `${address} is not an ${family} address (a ${rule.protocol} rule matches ${family}): use one such as ${v6 ? "fd00::5" : "10.0.0.5"}, or a variable such as $IP`,
      );
  }
  for (const name of ["arpsrcipaddr", "arpdstipaddr"] as const) {
    const address = match[name];
    if (address !== undefined && !address.startsWith("$") && !isIPv4(address))
      fail(
        name,
        `${address} is not an IPv4 address: use one such as 10.0.0.5, or a variable such as $IP`,
      );
  }
  for (const name of ["srcipmask", "dstipmask"] as const) {
    const mask = match[name];
    if (mask !== undefined && !v6 && mask > 32)
      fail(
        name,
        `${mask} is longer than an IPv4 prefix: use 0 to 32 (0 to 128 with protocol ipv6)`,
      );
  }
  for (const [start, end] of [
    ["srcportstart", "srcportend"],
    ["dstportstart", "dstportend"],
  ] as const) {
    const first = match[start];
    const last = match[end];
    if (last !== undefined && first === undefined)
      fail(end, `${end} ends a range that starts at ${start}: set ${start} too`);
    if (first !== undefined && last !== undefined && last < first)
      fail(end, `${end} ${last} is below ${start} ${first}: give the range lowest port first`);
  }
  const l4 = match.protocol;
  if (PORTS.some((name) => match[name] !== undefined) && (rule.protocol === "ip" || v6)) {
    if (l4 !== "tcp" && l4 !== "udp" && l4 !== "sctp" && l4 !== "udplite")
      fail(
        "protocol",
        `ports match only TCP, UDP, SCTP or UDP-Lite packets: set match.protocol to tcp or udp (or use a tcp or udp rule)`,
      );
  }
  return failures;
}
