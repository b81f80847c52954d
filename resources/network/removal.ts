/**
 * Removing networks a create made: the clean-up of a failed create, and the leftovers of a failed
 * earlier create of the same resource. As for domains (resources/domain/removal.ts), a leftover is
 * any network with this resource's mark, whatever its name: a Network is always deleted before its
 * replacement is created, and a leftover holds its bridge and addresses. A network that has the
 * wanted name but not the mark is somebody else's: the create fails and touches nothing.
 */
import { isNotFound, NetworkXMLFlags } from "../../rpc";
import type { Libvirt, RemoteNonnullNetwork } from "../../rpc";
import { leftoverRemoved, leftoversOf, undoHalfMade } from "../kit/leftovers";
import type { HalfMade } from "../kit/leftovers";
import { markIn } from "../kit/owner";
import type { ResourceContext } from "../kit/resource";
import { parseXml } from "../kit/xml";

/** Stops the network if it runs and undefines it; a transient one is gone once stopped. */
export async function removeNetwork(lv: Libvirt, net: RemoteNonnullNetwork): Promise<void> {
  try {
    if ((await lv.NetworkIsActive({ net })).active) await lv.NetworkDestroy({ net });
    await lv.NetworkUndefine({ net });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** The error to throw after a create failed with `error` once `net` was defined. */
export function undoNetwork(
  ctx: ResourceContext,
  error: unknown,
  net: RemoteNonnullNetwork,
  host: string | undefined,
): Promise<unknown> {
  const object: HalfMade = {
    host,
    what: `network ${net.name}, perhaps active`,
    marked: ctx.owner !== undefined,
    byHand: (virsh) =>
      `${virsh} net-destroy ${net.name} (if it is active), then ${virsh} net-undefine ${net.name}`,
  };
  return undoHalfMade(ctx, error, object, (lv) => removeNetwork(lv, net));
}

/**
 * Before a fresh create of network `name`: removes the leftovers of this resource, and fails if
 * `name` is taken by a network that is not one. Does nothing unless the create is fresh.
 */
export async function removeLeftoverNetworks(
  lv: Libvirt,
  name: string,
  ctx: ResourceContext,
): Promise<void> {
  const owner = ctx.owner;
  if (!owner?.fresh) return;
  const { nets } = await lv.ConnectListAllNetworks({ need_results: 1, flags: 0 });
  const found = await Promise.all(
    nets.map(async (net) => ({ object: net, name: net.name, mark: await markOf(lv, net) })),
  );
  for (const { object: net } of leftoversOf("network", name, found, owner)) {
    await removeNetwork(lv, net);
    ctx.log(leftoverRemoved(`network ${net.name}`));
  }
}

async function markOf(lv: Libvirt, net: RemoteNonnullNetwork): Promise<string | undefined> {
  try {
    const { xml } = await lv.NetworkGetXMLDesc({ net, flags: NetworkXMLFlags.INACTIVE });
    return markIn(parseXml(xml, "network"));
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
