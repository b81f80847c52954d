/**
 * The functions (data sources) of schema.json, by token: each a pure function of an open
 * connection and its checked arguments (defaults filled in) to its typed result. `host` names the
 * host in messages. The provider (provider/functions.ts) connects, checks and describes errors.
 */
import type { Libvirt } from "../../rpc";
import { getDomainCapabilities } from "./domain-capabilities";
import { getNetworkDhcpLeases } from "./dhcp-leases";
import { getDomainInterfaceAddresses } from "./interface-addresses";
import { getNodeDevices } from "./node-devices";
import { getNodeInfo } from "./node-info";

export { FunctionLookupError } from "./lookup";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type FunctionImplementation = (lv: Libvirt, args: any, host: string) => Promise<object>;

export const functions: Record<string, FunctionImplementation> = {
  "virtwire:index:getNodeInfo": getNodeInfo,
  "virtwire:index:getNodeDevices": getNodeDevices,
  "virtwire:index:getDomainInterfaceAddresses": getDomainInterfaceAddresses,
  "virtwire:index:getNetworkDhcpLeases": getNetworkDhcpLeases,
  "virtwire:index:getDomainCapabilities": getDomainCapabilities,
};
