/**
 * Creating a network while other creates may run on the same host (other stacks' jobs, other
 * resources of the same stack). Two things are handed out when a network is defined, and nothing
 * reserves them:
 *
 * - its bridge, when the inputs name none: libvirt picks the lowest free `virbrN`, and two defines
 *   at the same moment may pick the same one; the second start then fails ("error creating bridge
 *   interface virbr4: File exists", seen on the test bed);
 * - the subnet of an `auto` address, which auto.ts chose from the networks it saw. libvirt defines
 *   any number of networks with the same subnet and refuses only to start one whose subnet a
 *   running network routes (VIR_ERR_INTERNAL_ERROR, "Network is already in use by interface
 *   virbrN"); that check itself races with a start in progress.
 *
 * So a create claims both by defining its network, then looks at the other networks again: if one
 * has its bridge or an overlapping subnet by then, it undefines its own, waits a random moment and
 * tries again (choosing again). Of two creates that got the same, the later definer always sees
 * the earlier one (its look comes after its own define, which comes after the other's), so at most
 * one keeps it; when both give way, both try again. Only then is the network started; a start
 * that fails because a network defined meanwhile took what it had also tries again. A bridge name
 * or a fixed address from the inputs is never given up: that conflict is the error.
 */
import { randomInt } from "node:crypto";
import { LibvirtError } from "../../rpc";
import type { Libvirt, RemoteNonnullNetwork } from "../../rpc";
import type { ResourceContext } from "../kit/resource";
import { sleep } from "../kit/sleep";
import type { NetworkInputs } from "../kit/generated/types";
import type { CheckedNetworkInputs } from "../kit/generated/checked";
import { chooseAuto, isAuto, subnetsOf } from "./auto";
import { formatSubnet, overlaps } from "./ip";
import { otherNetworks } from "./others";
import { removeNetwork, undoNetwork } from "./removal";
import { buildNetworkXml } from "./xml";

/** How often a create tries again before it gives up (each time another create took its share). */
const MAX_ATTEMPTS = 10;

/**
 * Defines and starts the network, choosing its `auto` addresses first. Returns the network and
 * the inputs as made (every address concrete). A failure undoes what it made, as create does.
 */
export async function defineAndStart(
  lv: Libvirt,
  inputs: CheckedNetworkInputs,
  ctx: ResourceContext,
): Promise<{ net: RemoteNonnullNetwork; made: NetworkInputs }> {
  const name = inputs.name;
  const auto = inputs.addresses?.some(isAuto) ?? false;
  for (let attempt = 1; ; attempt++) {
    const taken = auto ? (await otherNetworks(lv)).filter((other) => other.name !== name) : [];
    const made = chooseAuto(
      inputs,
      taken.flatMap((other) => other.subnets),
    );
    const xml = buildNetworkXml(made, ctx.owner);
    const { net } = await lv.NetworkDefineXML({ xml });
    let lost: string | undefined;
    try {
      lost = await takenMeanwhile(lv, inputs, made);
      if (!lost) {
        await lv.NetworkCreate({ net });
        return { net, made };
      }
    } catch (error) {
      // libvirt refused to start it: tried again if a network defined meanwhile took its share.
      lost = error instanceof LibvirtError ? await takenMeanwhile(lv, inputs, made) : undefined;
      if (!lost) throw await undoNetwork(ctx, error, net, inputs.host);
    }
    if (attempt >= MAX_ATTEMPTS) {
      const error = new Error(`${lost} while it was being created, ${MAX_ATTEMPTS} times`);
      throw await undoNetwork(ctx, error, net, inputs.host);
    }
    await removeNetwork(lv, net).catch(async (error) => {
      throw await undoNetwork(ctx, error, net, inputs.host);
    });
    ctx.log(`virtwire: network ${name}: ${lost} while it was being created; trying again`);
    await sleep(randomInt(50, 500));
  }
}

/**
 * What another network has of this one's (defined as `made`): the bridge libvirt picked for it, or
 * the subnet of an `auto` address, in words for the log; undefined when nothing.
 */
async function takenMeanwhile(
  lv: Libvirt,
  inputs: NetworkInputs,
  made: NetworkInputs,
): Promise<string | undefined> {
  const networks = await otherNetworks(lv);
  const bridge = networks.find((network) => network.name === inputs.name)?.bridge;
  const pickedBridge = !inputs.bridge?.name && inputs.mode !== "bridge" ? bridge : undefined;
  const chosen = subnetsOf((made.addresses ?? []).filter((_, i) => isAuto(inputs.addresses?.[i])));
  for (const other of networks.filter((network) => network.name !== inputs.name)) {
    const subnet = other.subnets.find((theirs) => chosen.some((mine) => overlaps(theirs, mine)));
    if (subnet) return `subnet ${formatSubnet(subnet)} was taken by network ${other.name}`;
    if (pickedBridge && other.bridge === pickedBridge) {
      return `bridge ${pickedBridge} was given to network ${other.name} too`;
    }
  }
  return undefined;
}
