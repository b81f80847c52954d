/**
 * The honest wait for a domain's IP addresses: poll libvirt until every interface has a usable
 * address, and say on the domain's row, every few seconds, what is awaited, for how long and what
 * was seen. Fail as soon as the failure is knowable: at preview, and again before waiting, when an
 * interface can get its address only from DHCP leases on a network without DHCP; when the domain
 * stops; and when the time is up, saying why for each interface still without an address (no lease
 * for that MAC, only the lease from before this start, no agent channel, the agent not answering).
 */
import { ErrorCode, hasErrorCode, isNotFound } from "../../rpc";
import type { Libvirt, RemoteNonnullDomain } from "../../rpc";
import { UNKNOWN } from "../kit/check";
import { deepEqual } from "../kit/diff";
import { markIn } from "../kit/owner";
import type { CheckFailure, ResourceContext } from "../kit/resource";
import { element, elements, parseXml } from "../kit/xml";
import type { DomainInputs, DomainNetworkInterface } from "../kit/generated/types";
import type { CheckedDomainInputs } from "../kit/generated/checked";
import {
  AddressLookup,
  AddressQuery,
  currentLeases,
  lookupAddresses,
  renewedSince,
  sourcesFor,
} from "./addresses";
import { isUnknown } from "./normalize";
import { sleep } from "../kit/sleep";
import { domainState, isRunningState, stateName } from "./power";

const POLL_MS = 500;
/** How often the domain's row says how the wait goes. */
const STATUS_MS = 5_000;

export interface AddressWait extends AddressQuery {
  timeoutSeconds: number;
  /** Where the progress goes (ResourceContext.status). */
  status?: (line: string) => void;
}

/**
 * Before the domain starts: fails when an interface can never get an address the wait would see
 * (its only source is the DHCP leases of a network without DHCP, or not running).
 */
export async function ensureAddressesCanCome(
  lv: Libvirt,
  nics: DomainNetworkInterface[],
  query: AddressQuery,
): Promise<void> {
  const hopeless: string[] = [];
  for (const nic of nics.filter((nic) => leasesOnly(nic, query))) {
    const problem = await dhcpProblem(lv, nic.network!);
    if (problem) hopeless.push(`interface ${nic.mac}: ${problem.reason}`);
  }
  if (hopeless.length > 0) {
    throw new Error(
      `no IP address can come (waitForAddresses.source ${query.source}), so the domain was not started to wait for one: ${hopeless.join("; ")}`,
    );
  }
}

/**
 * Polls until every interface has an address; returns them and how long it took. Fails when the
 * domain stops, or after `timeoutSeconds` with a diagnosis for each interface still without one.
 */
export async function waitForAddresses(
  lv: Libvirt,
  dom: RemoteNonnullDomain,
  nics: DomainNetworkInterface[],
  wait: AddressWait,
): Promise<{ byMac: Map<string, string[]>; elapsedMs: number }> {
  const started = Date.now();
  const deadline = started + wait.timeoutSeconds * 1000;
  let nextStatus = started;
  const query: AddressQuery = { ...wait, networks: wait.networks ?? new Map() };
  for (;;) {
    const found = await lookupAddresses(lv, dom, nics, query);
    const missing = nics.filter((nic) => addressesOf(found, nic).length === 0);
    if (missing.length === 0) return { byMac: found.byMac, elapsedMs: Date.now() - started };
    const state = await domainState(lv, dom);
    if (!isRunningState(state)) {
      throw new Error(
        `the domain stopped (state ${stateName(state)}) while waiting for its IP addresses; its console log may say why`,
      );
    }
    const now = Date.now();
    if (now >= deadline) {
      const reasons = await Promise.all(
        missing.map((nic) => diagnose(lv, nic, wait, found.agentError)),
      );
      throw new Error(
        `no IP address after ${wait.timeoutSeconds} s (waitForAddresses.source ${wait.source}): ${reasons.join("; ")}`,
      );
    }
    if (now >= nextStatus) {
      wait.status?.(waitStatus(nics, wait, found, now - started));
      nextStatus = now + STATUS_MS;
    }
    await sleep(POLL_MS);
  }
}

/**
 * One status line: `waiting for IP addresses (waitForAddresses.source lease), 5 s of 300 s:
 * 52:54:00:12:34:56 on network lab: no DHCP lease yet`.
 */
export function waitStatus(
  nics: DomainNetworkInterface[],
  wait: AddressWait,
  found: AddressLookup,
  elapsedMs: number,
): string {
  const seen = nics.map((nic) => `${nic.mac} on ${where(nic)}: ${interfaceSeen(nic, wait, found)}`);
  return `waiting for IP addresses (waitForAddresses.source ${wait.source}), ${Math.floor(elapsedMs / 1000)} s of ${wait.timeoutSeconds} s: ${seen.join("; ")}`;
}

function interfaceSeen(nic: DomainNetworkInterface, query: AddressQuery, found: AddressLookup) {
  const addresses = addressesOf(found, nic);
  if (addresses.length > 0) return addresses.join(", ");
  const sources = sourcesFor(nic, query);
  const seen: string[] = [];
  if (sources.includes("lease")) {
    const stale = found.staleLeases.has(nic.mac?.toLowerCase() ?? "");
    seen.push(stale ? "only its lease from before this start" : "no DHCP lease yet");
  }
  if (sources.includes("agent")) {
    seen.push(
      found.agentError === undefined
        ? "the guest agent reports no address yet"
        : "the guest agent does not answer yet",
    );
  }
  return seen.join(", ") || "no address source applies";
}

const addressesOf = (found: AddressLookup, nic: DomainNetworkInterface) =>
  found.byMac.get(nic.mac?.toLowerCase() ?? "") ?? [];

const where = (nic: { network?: string; bridge?: string }) =>
  nic.network !== undefined ? `network ${nic.network}` : `bridge ${nic.bridge}`;

/** An interface on a network whose address can come only from the network's DHCP leases. */
function leasesOnly(nic: DomainNetworkInterface, query: AddressQuery): boolean {
  const sources = sourcesFor(nic, query);
  return nic.network !== undefined && sources.length === 1 && sources[0] === "lease";
}

interface DhcpProblem {
  reason: string;
  /** The network exists (it is not running, or has no DHCP). */
  exists: boolean;
  /** The URN of the virtwire resource that made the network, if one did. */
  owner?: string;
}

/** Why no DHCP lease can appear on the network, or undefined when one can. */
export async function dhcpProblem(lv: Libvirt, name: string): Promise<DhcpProblem | undefined> {
  try {
    const { net } = await lv.NetworkLookupByName({ name });
    const { xml } = await lv.NetworkGetXMLDesc({ net, flags: 0 });
    const root = parseXml(xml, "network");
    const owner = markIn(root);
    if (!(await lv.NetworkIsActive({ net })).active) {
      return { reason: `network ${name} is not running`, exists: true, owner };
    }
    if (!elements(root, "ip").some((ip) => element(ip, "dhcp") !== undefined)) {
      return {
        reason: `network ${name} has no DHCP server (no <dhcp> range), so no lease can appear: give the network a DHCP range, or use the guest agent (qemuAgent: true, waitForAddresses.source "any" or "agent")`,
        exists: true,
        owner,
      };
    }
    return undefined;
  } catch (error) {
    if (isNotFound(error)) return { reason: `network ${name} does not exist`, exists: false };
    throw error;
  }
}

/**
 * At preview: an interface that waitForAddresses would wait for in vain, on a network that exists
 * now. A network another program or the host's admin made is refused at once; one made by a
 * resource of this stack may still get DHCP in the same `pulumi up`, so that is a warning (and the
 * create fails before waiting if it did not). Asked only when the interfaces, the wait or the
 * agent are new or changed.
 */
export async function addressFailures(
  inputs: CheckedDomainInputs,
  olds: Partial<DomainInputs>,
  ctx: ResourceContext,
): Promise<CheckFailure[]> {
  const wait = inputs.waitForAddresses;
  // A wait not known yet has no known source either.
  if (!wait || isUnknown(wait) || isUnknown(wait.source) || !inputs.running) return [];
  const asked = ["networkInterfaces", "waitForAddresses", "qemuAgent"] as const;
  if (asked.every((name) => deepEqual(inputs[name], olds[name]))) return [];
  const query: AddressQuery = { source: wait.source, qemuAgent: inputs.qemuAgent === true };
  const nics = Array.isArray(inputs.networkInterfaces) ? inputs.networkInterfaces : [];
  const failures: CheckFailure[] = [];
  let lv: Libvirt | undefined;
  for (const [index, nic] of nics.entries()) {
    if (typeof nic.network !== "string" || nic.network === UNKNOWN) continue;
    if (!leasesOnly(nic, query)) continue;
    lv ??= await ctx.connect(inputs.host);
    const problem = await dhcpProblem(lv, nic.network);
    if (!problem?.exists) continue;
    const path = `networkInterfaces[${index}].network`;
    const reason = `${path}: ${problem.reason}`;
    if (problem.owner !== undefined && sameStack(problem.owner, ctx.owner?.mark)) {
      ctx.warn(
        `virtwire: domain ${inputs.name}: ${reason}. Unless it gets one before this domain starts, the create fails then`,
      );
    } else {
      failures.push({ property: path, reason });
    }
  }
  return failures;
}

/** `[org/]urn:pulumi:<stack>::<project>::…`: both marks (owner.ts) of the same stack of the same project. */
export function sameStack(urn: string, other: string | undefined): boolean {
  const stackOf = (value: string) => value.split("::").slice(0, 2).join("::");
  return other !== undefined && stackOf(urn) === stackOf(other);
}

async function diagnose(
  lv: Libvirt,
  nic: DomainNetworkInterface,
  query: AddressQuery,
  agentError: unknown,
): Promise<string> {
  const who = `interface ${nic.mac}`;
  const reasons: string[] = [];
  if (sourcesFor(nic, query).includes("lease")) {
    const before = query.baseline?.get(nic.mac?.toLowerCase() ?? "");
    const renewed = before === undefined || renewedSince(await currentLeases(lv, nic), before);
    reasons.push(
      renewed
        ? await leaseDiagnosis(lv, nic)
        : `only the lease from before this start is known for MAC ${nic.mac} on network ${nic.network}: the guest has not asked for an address since it started (did it boot? its console may say)`,
    );
  }
  if (sourcesFor(nic, query).includes("agent")) reasons.push(agentDiagnosis(nic, agentError));
  if (reasons.length === 0) reasons.push("no address source applies (see waitForAddresses.source)");
  return `${who}: ${reasons.join(", and ")}`;
}

async function leaseDiagnosis(lv: Libvirt, nic: DomainNetworkInterface): Promise<string> {
  const name = nic.network!;
  const problem = await dhcpProblem(lv, name);
  if (problem) return problem.reason;
  const { net } = await lv.NetworkLookupByName({ name });
  const { leases } = await lv.NetworkGetDHCPLeases({
    net,
    mac: nic.mac!,
    need_results: 1,
    flags: 0,
  });
  if (leases.length === 0) {
    return `no DHCP lease seen for MAC ${nic.mac} on network ${name}: the guest never asked for one (did it boot, and does it run a DHCP client on this interface? its console may say)`;
  }
  return `network ${name} has a lease for MAC ${nic.mac} (${leases.map((l) => l.ipaddr).join(", ")}) but libvirt does not report it for the domain`;
}

function agentDiagnosis(nic: DomainNetworkInterface, agentError: unknown): string {
  if (agentError === undefined) {
    return `the guest agent answered but reports no address for MAC ${nic.mac} (is the interface up and configured in the guest?)`;
  }
  const message = (agentError as Error).message;
  // The codes carry what the words say. libvirt's qemuDomainAgentAvailable (src/qemu/qemu_domain.c):
  // no agent channel in the XML is ARGUMENT_UNSUPPORTED ("QEMU guest agent is not configured"); a
  // channel nobody answers on, or an agent in error, AGENT_UNRESPONSIVE, as is a reply that does
  // not come in time (src/qemu/qemu_agent.c); "Guest agent is not responding: …" is the text
  // virerror.c puts before every AGENT_UNRESPONSIVE message.
  if (hasErrorCode(agentError, ErrorCode.ARGUMENT_UNSUPPORTED)) {
    return "no guest agent channel is configured (set qemuAgent: true)";
  }
  if (hasErrorCode(agentError, ErrorCode.AGENT_UNRESPONSIVE)) {
    return `the QEMU guest agent did not answer (${message}): is qemu-guest-agent installed and running in the guest?`;
  }
  return `asking the guest agent failed: ${message}`;
}
