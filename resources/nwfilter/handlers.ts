/**
 * NwFilter: a libvirt network filter, defined on create and redefined in place on any change but
 * the name and host (libvirt then applies the new rules to the NICs of running guests that use the
 * filter, with no restart). Delete undefines it; libvirt refuses while a running guest's NIC uses
 * it (OPERATION_INVALID), and the error names the fix.
 *
 * Filter XML has no metadata: virtwire's mark is in the filter's UUID, as for pools
 * (resources/kit/owner.ts). A fresh create removes a leftover of this resource with the wanted name
 * and refuses, touching nothing, a filter of that name without the mark (libvirt's own filters
 * such as clean-traffic have none).
 */
import {
  ErrorCode,
  Libvirt,
  RemoteNonnullNWFilter,
  formatUuid,
  hasErrorCode,
  parseUuid,
} from "../../rpc";
import { preserveUserIntent, schemaDiff } from "../kit/diff";
import { NotFoundError, lookupByUuidOrName } from "../kit/get";
import { leftoverRemoved, leftoversOf } from "../kit/leftovers";
import { unlessNotFound } from "../kit/not-found";
import { markedUuid, uuidMarks } from "../kit/owner";
import type { ResourceContext, ResourceHandlers } from "../kit/resource";
import type { NwFilterInputs, NwFilterOutputs } from "../kit/generated/types";
import { checkNwFilter } from "./check";
import { keepIntent } from "./intent";
import { buildNwFilterXml, readNwFilterXml } from "./xml";

export const nwFilterHandlers: ResourceHandlers<NwFilterInputs, NwFilterOutputs> = {
  check: checkNwFilter,

  diff(_id, olds, news) {
    return schemaDiff("NwFilter", olds, news);
  },

  async create(inputs, ctx) {
    const lv = await ctx.connect(inputs.host);
    const name = inputs.name!;
    await removeLeftoverFilter(lv, name, ctx);
    // libvirt's define of an existing name redefines that filter: never somebody else's.
    if (await findByName(lv, name)) {
      throw new Error(
        `a network filter named ${name} already exists, and virtwire did not create it for this resource; nothing was changed: set another name (or import it with NwFilter.get)`,
      );
    }
    const uuid = ctx.owner && markedUuid(ctx.owner.mark);
    const { nwfilter } = await lv.NWFilterDefineXML({ xml: buildNwFilterXml(inputs, uuid) });
    try {
      return { id: formatUuid(nwfilter.uuid), outs: await describe(lv, nwfilter, inputs) };
    } catch (error) {
      await lv.NWFilterUndefine({ nwfilter }).catch(() => undefined);
      throw error;
    }
  },

  async get(id, state, ctx) {
    const lv = await ctx.connect(state.host);
    const nwfilter = await lookupByUuidOrName(
      id,
      async (uuid) => (await lv.NWFilterLookupByUUID({ uuid })).nwfilter,
      async (name) => (await lv.NWFilterLookupByName({ name })).nwfilter,
    );
    if (!nwfilter) throw new NotFoundError("network filter", id, "UUID or name", FILTERS_HINT);
    return {
      id: formatUuid(nwfilter.uuid),
      outs: await describe(lv, nwfilter, { host: state.host }, true),
    };
  },

  async read(id, props, ctx) {
    const lv = await ctx.connect(props.host);
    const nwfilter = await lookup(lv, id);
    if (!nwfilter) return undefined;
    return unlessNotFound(() => describe(lv, nwfilter, props));
  },

  async update(id, olds, news, ctx) {
    const lv = await ctx.connect(news.host);
    const nwfilter = await lookup(lv, id);
    if (!nwfilter)
      throw new Error(`network filter ${olds.name} (${id}) no longer exists; run pulumi refresh`);
    // Same name and UUID: libvirt replaces the definition and re-applies it to running guests.
    const { nwfilter: defined } = await lv.NWFilterDefineXML({
      xml: buildNwFilterXml({ ...news, name: nwfilter.name }, id),
    });
    return describe(lv, defined, news);
  },

  async delete(id, props, ctx) {
    const lv = await ctx.connect(props.host);
    const nwfilter = await lookup(lv, id);
    if (!nwfilter) return;
    try {
      await unlessNotFound(() => lv.NWFilterUndefine({ nwfilter }));
    } catch (error) {
      if (!hasErrorCode(error, ErrorCode.OPERATION_INVALID)) throw error;
      throw new Error(
        `network filter ${nwfilter.name} is in use by a running guest's NIC (libvirt: ${error.message}); nothing was changed: remove the filter from the domains' interfaces (or stop those domains), then destroy again`,
      );
    }
  },
};

const FILTERS_HINT = " (virsh nwfilter-list lists the network filters of a host)";

function lookup(lv: Libvirt, id: string): Promise<RemoteNonnullNWFilter | undefined> {
  return unlessNotFound(
    async () => (await lv.NWFilterLookupByUUID({ uuid: parseUuid(id) })).nwfilter,
  );
}

function findByName(lv: Libvirt, name: string): Promise<RemoteNonnullNWFilter | undefined> {
  return unlessNotFound(async () => (await lv.NWFilterLookupByName({ name })).nwfilter);
}

/**
 * Before a fresh create of filter `name`: removes this resource's leftover of that name (a filter
 * whose UUID carries its mark), and fails if the name is taken by a filter without the mark.
 */
async function removeLeftoverFilter(lv: Libvirt, name: string, ctx: ResourceContext) {
  const owner = ctx.owner;
  if (!owner?.fresh) return;
  const found = await findByName(lv, name);
  if (!found) return;
  const mark = uuidMarks(formatUuid(found.uuid), owner.mark) ? owner.mark : undefined;
  leftoversOf("network filter", name, [{ object: found, name, mark }], owner);
  await unlessNotFound(() => lv.NWFilterUndefine({ nwfilter: found }));
  ctx.log(leftoverRemoved(`network filter ${name}`));
}

/**
 * The filter as libvirt has it; of the input properties, only those set in `previous` (user
 * intent), or every one when `complete` (a get).
 */
async function describe(
  lv: Libvirt,
  nwfilter: RemoteNonnullNWFilter,
  previous: Partial<NwFilterInputs | NwFilterOutputs>,
  complete = false,
): Promise<NwFilterOutputs> {
  const { xml } = await lv.NWFilterGetXMLDesc({ nwfilter, flags: 0 });
  const description = readNwFilterXml(xml);
  const outputs: NwFilterOutputs = {
    name: description.name,
    chain: description.chain,
    priority: description.priority,
    rules: description.rules,
    filterRefs: description.filterRefs,
    host: previous.host,
    uuid: formatUuid(nwfilter.uuid),
  };
  if (complete) return outputs;
  const kept = preserveUserIntent("NwFilter", previous, outputs);
  kept.rules = keepIntent(previous.rules, description.rules) as NwFilterOutputs["rules"];
  kept.filterRefs = keepIntent(
    previous.filterRefs,
    description.filterRefs,
  ) as NwFilterOutputs["filterRefs"];
  return kept;
}
