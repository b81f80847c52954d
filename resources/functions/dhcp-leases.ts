/** getNetworkDhcpLeases: NETWORK_GET_DHCP_LEASES of a network, optionally of one MAC address. */
import { IPAddrType } from "../../rpc";
import type { Libvirt } from "../../rpc";
import type {
  DhcpLease,
  GetNetworkDhcpLeasesArgs,
  GetNetworkDhcpLeasesResult,
} from "../kit/generated/types";
import { FunctionLookupError, findNetwork, uuidText } from "./lookup";

export async function getNetworkDhcpLeases(
  lv: Libvirt,
  args: GetNetworkDhcpLeasesArgs,
  host: string,
): Promise<GetNetworkDhcpLeasesResult> {
  const net = await findNetwork(lv, args.network, host);
  const { active } = await lv.NetworkIsActive({ net });
  if (!active) {
    throw new FunctionLookupError(
      `Network '${net.name}' on host ${host} is not active: only an active network has DHCP leases; start it (virsh net-start ${net.name})`,
    );
  }
  const { leases } = await lv.NetworkGetDHCPLeases({
    net,
    mac: args.mac?.toLowerCase() ?? null,
    need_results: 1,
    flags: 0,
  });
  return {
    name: net.name,
    uuid: uuidText(net),
    leases: leases.map((lease): DhcpLease => ({
      interface: lease.iface,
      expiryTime: Number(lease.expirytime),
      type: lease.type === IPAddrType.IPV6 ? "ipv6" : "ipv4",
      ...(lease.mac !== null && { mac: lease.mac }),
      ...(lease.iaid !== null && { iaid: lease.iaid }),
      ipAddress: lease.ipaddr,
      prefix: lease.prefix,
      ...(lease.hostname !== null && { hostname: lease.hostname }),
      ...(lease.clientid !== null && { clientId: lease.clientid }),
    })),
  };
}
