/**
 * The Network's lists beyond addresses and DNS hosts, as sets: a key per entry that is the same
 * however the entry is written (IP addresses by value, libvirt's left-out zeros and `default="no"`
 * as unset), and the live edits of the lists NETWORK_UPDATE can change on a running network (SRV
 * and TXT records, port groups: sections DNS_SRV, DNS_TXT and PORTGROUP, which libvirt 9.0 and
 * 11.3 both apply live; a changed port group is deleted by name and added again).
 */
import { NetworkUpdateCommand as Command, NetworkUpdateSection as Section } from "../../rpc";
import type {
  NetworkBandwidth,
  NetworkDnsForwarder,
  NetworkDnsSrvRecord,
  NetworkDnsTxtRecord,
  NetworkInputs,
  NetworkOutputs,
  NetworkPortGroup,
  NetworkRoute,
} from "../kit/generated/types";
import { ipKey, listEdit, sameSet } from "./changes";
import { extraFragments } from "./extras";

export const routeKey = (route: NetworkRoute) =>
  `${ipKey(route.address)}/${route.prefix}>${ipKey(route.gateway)}:${route.metric ?? ""}`;
export const forwarderKey = (forwarder: NetworkDnsForwarder) =>
  `${forwarder.address === undefined ? "" : ipKey(forwarder.address)}@${forwarder.domain ?? ""}`;
export const txtKey = (txt: NetworkDnsTxtRecord) => JSON.stringify([txt.name, txt.value]);
export const srvKey = (srv: NetworkDnsSrvRecord) =>
  JSON.stringify([
    srv.service,
    srv.protocol,
    srv.domain ?? "",
    srv.target ?? "",
    srv.port ?? 0,
    srv.priority ?? 0,
    srv.weight ?? 0,
  ]);
const bandwidthKey = (bandwidth: NetworkBandwidth | undefined) =>
  (["inbound", "outbound"] as const).map((direction) => {
    const limit = bandwidth?.[direction];
    return limit ? [limit.average, limit.peak ?? 0, limit.burst ?? 0] : [];
  });
export const portGroupKey = (group: NetworkPortGroup) =>
  JSON.stringify([group.name, group.default === true, bandwidthKey(group.bandwidth)]);

/** The list inputs compared as sets, each with its key. */
export const SET_PROPERTIES = {
  routes: routeKey,
  dnsForwarders: forwarderKey,
  dnsTxtRecords: txtKey,
  dnsSrvRecords: srvKey,
  portGroups: portGroupKey,
} as const;

type SetProperty = keyof typeof SET_PROPERTIES;

/** The set properties whose entries differ between the last outputs and the new inputs. */
export function changedSets(olds: NetworkOutputs, news: NetworkInputs): SetProperty[] {
  return (Object.keys(SET_PROPERTIES) as SetProperty[]).filter(
    (name) =>
      !sameSet<unknown>(olds[name], news[name], SET_PROPERTIES[name] as (item: unknown) => string),
  );
}

export type Update = (
  command: Command,
  section: Section,
  parentIndex: number,
  xml: string,
) => Promise<void>;

/** Deletes first, then adds: a port group can move `default` from one group to another. */
export async function applyRecordEdits(
  update: Update,
  olds: NetworkOutputs,
  news: NetworkInputs,
): Promise<void> {
  const txt = listEdit(olds.dnsTxtRecords, news.dnsTxtRecords, txtKey);
  const srv = listEdit(olds.dnsSrvRecords, news.dnsSrvRecords, srvKey);
  const groups = listEdit(olds.portGroups, news.portGroups, portGroupKey);
  for (const record of txt.remove)
    await update(Command.DELETE, Section.DNS_TXT, -1, extraFragments.txt(record));
  for (const record of srv.remove)
    await update(Command.DELETE, Section.DNS_SRV, -1, extraFragments.srv(record));
  for (const group of groups.remove)
    await update(Command.DELETE, Section.PORTGROUP, -1, extraFragments.portGroup(group));
  for (const record of txt.add)
    await update(Command.ADD_LAST, Section.DNS_TXT, -1, extraFragments.txt(record));
  for (const record of srv.add)
    await update(Command.ADD_LAST, Section.DNS_SRV, -1, extraFragments.srv(record));
  for (const group of groups.add)
    await update(Command.ADD_LAST, Section.PORTGROUP, -1, extraFragments.portGroup(group));
}
