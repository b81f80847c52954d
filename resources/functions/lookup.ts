/**
 * Finding the domain or network a function names, by UUID or name as virsh does, and saying in
 * the user's words when there is none.
 */
import { formatUuid } from "../../rpc";
import type { Libvirt, RemoteNonnullDomain, RemoteNonnullNetwork } from "../../rpc";
import { lookupByUuidOrName } from "../kit/get";

/** A function's argument names nothing on the host, or something it cannot be asked about now. */
export class FunctionLookupError extends Error {
  override name = "FunctionLookupError";
}

export async function findDomain(
  lv: Libvirt,
  id: string,
  host: string,
): Promise<RemoteNonnullDomain> {
  const dom = await lookupByUuidOrName(
    id,
    async (uuid) => (await lv.DomainLookupByUUID({ uuid })).dom,
    async (name) => (await lv.DomainLookupByName({ name })).dom,
  );
  if (!dom) throw new FunctionLookupError(`Domain '${id}' not found on host ${host}`);
  return dom;
}

export async function findNetwork(
  lv: Libvirt,
  id: string,
  host: string,
): Promise<RemoteNonnullNetwork> {
  const net = await lookupByUuidOrName(
    id,
    async (uuid) => (await lv.NetworkLookupByUUID({ uuid })).net,
    async (name) => (await lv.NetworkLookupByName({ name })).net,
  );
  if (!net) throw new FunctionLookupError(`Network '${id}' not found on host ${host}`);
  return net;
}

export function uuidText(object: { uuid: Uint8Array }): string {
  return formatUuid(object.uuid);
}
