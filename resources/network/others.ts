/**
 * The networks libvirt has on a host, each with its name, bridge and subnets, running or not: what
 * preflight holds a new Network's addresses and bridge against, and what `auto` addresses avoid.
 */
import {
  ConnectListAllNetworksFlags,
  Libvirt,
  NetworkXMLFlags,
  RemoteNonnullNetwork,
} from "../../rpc";
import { unlessNotFound } from "../kit/not-found";
import { markIn } from "../kit/owner";
import { parseXml } from "../kit/xml";
import { Subnet, parseIp, subnetOf } from "./ip";
import { readNetworkNode } from "./xml";

export interface OtherNetwork {
  name: string;
  /** Its virtwire mark (resources/kit/owner.ts), if it has one. */
  mark?: string;
  active: boolean;
  bridge?: string;
  subnets: Subnet[];
}

export async function otherNetworks(lv: Libvirt): Promise<OtherNetwork[]> {
  const { nets } = await lv.ConnectListAllNetworks({ need_results: 1, flags: 0 });
  const { nets: running } = await lv.ConnectListAllNetworks({
    need_results: 1,
    flags: ConnectListAllNetworksFlags.ACTIVE,
  });
  const active = new Set(running.map((net) => net.name));
  const described = await Promise.all(nets.map((net) => unlessNotFound(() => describe(lv, net))));
  return described.flatMap((network) =>
    network ? [{ ...network, active: active.has(network.name) }] : [],
  );
}

/** A network's name, mark, bridge and subnets. */
async function describe(
  lv: Libvirt,
  net: RemoteNonnullNetwork,
): Promise<Omit<OtherNetwork, "active">> {
  const { xml } = await lv.NetworkGetXMLDesc({ net, flags: NetworkXMLFlags.INACTIVE });
  const network = parseXml(xml, "network");
  const config = readNetworkNode(network);
  const mark = markIn(network);
  const subnets = config.addresses.flatMap((address) => {
    const ip = parseIp(address.address);
    return ip ? [subnetOf(ip, address.prefix)] : [];
  });
  return { name: config.name, mark, bridge: config.bridge.name, subnets };
}
