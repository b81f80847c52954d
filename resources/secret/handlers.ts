/**
 * Secret: defined (SECRET_DEFINE_XML) with a UUID that carries the resource's mark, then given its
 * value (SECRET_SET_VALUE); a failed value undoes the definition. The id is the UUID. The value
 * and description change in place (a redefinition under the same UUID keeps the value); usage,
 * `private` and `ephemeral` replace the secret, the old one first when the usage stays (libvirt
 * allows one secret per usage). The value never reaches a message.
 */
import { formatUuid, isNotFound, Libvirt, RemoteNonnullSecret } from "../../rpc";
import { fillDefaults } from "../kit/check";
import { schemaDiff, sameHost } from "../kit/diff";
import { secretDefaults } from "../kit/generated/checked";
import type { CheckedSecretInputs } from "../kit/generated/checked";
import type { SecretOutputs } from "../kit/generated/types";
import { leftoverRemoved, undoHalfMade } from "../kit/leftovers";
import { markedUuid, uuidMarks } from "../kit/owner";
import type { ResourceContext, ResourceHandlers } from "../kit/resource";
import { checkSecret } from "./check";
import { findSecretForGet, secretByUsage, secretByUuid } from "./lookup";
import { valueBytes, valueRead } from "./value";
import { buildSecretXml, readSecretXml } from "./xml";

type Inputs = CheckedSecretInputs;

export const secretHandlers: ResourceHandlers<Inputs, SecretOutputs> = {
  check: checkSecret,

  async preflight(inputs, olds, ctx) {
    const sameUsage = olds.usageType === inputs.usageType && olds.usageId === inputs.usageId;
    if (sameUsage && sameHost(olds.host, inputs.host)) return [];
    const lv = await ctx.connect(inputs.host);
    const taken = await secretByUsage(lv, inputs.usageType, inputs.usageId);
    if (!taken || isOwn(taken, ctx)) return [];
    return [{ property: "usageId", reason: takenMessage(inputs, taken) }];
  },

  diff(_id, olds, news) {
    const result = schemaDiff("Secret", olds, news);
    // libvirt cannot take a value away: without one in the inputs, the stored one stays.
    if (news.value === undefined || news.value === null) {
      result.changed = result.changed.filter((name) => name !== "value");
      result.changes = result.changed.length > 0;
    }
    const sameUsage =
      olds.usageType === news.usageType &&
      olds.usageId === news.usageId &&
      sameHost(olds.host, news.host);
    if (result.replaces.length > 0 && sameUsage) result.deleteBeforeReplace = true;
    return result;
  },

  async create(inputs, ctx) {
    const lv = await ctx.connect(inputs.host);
    await removeLeftover(lv, inputs, ctx);
    const uuid = ctx.owner && markedUuid(ctx.owner.mark);
    const xml = buildSecretXml({ ...inputs, uuid });
    const { secret } = await lv.SecretDefineXML({ xml, flags: 0 });
    try {
      await setValue(lv, secret, inputs);
      return { id: formatUuid(secret.uuid), outs: await describe(lv, secret, inputs) };
    } catch (error) {
      const id = formatUuid(secret.uuid);
      throw await undoHalfMade(
        ctx,
        error,
        {
          host: inputs.host,
          what: `secret ${id}`,
          marked: ctx.owner !== undefined && inputs.usageType !== "none",
          foundByName: true,
          byHand: (virsh) => `${virsh} secret-undefine ${id}`,
        },
        (again) => again.SecretUndefine({ secret }),
      );
    }
  },

  async get(id, state, ctx) {
    const lv = await ctx.connect(state.host);
    const secret = await findSecretForGet(lv, id);
    const carried = { ...secretDefaults, host: state.host } as Inputs;
    const outs = await describe(lv, secret, { ...carried, value: undefined }, true);
    return { id: formatUuid(secret.uuid), outs };
  },

  async read(id, props, ctx) {
    const lv = await ctx.connect(props.host);
    const secret = await secretByUuid(lv, id);
    if (!secret) return undefined;
    try {
      return await describe(lv, secret, fillDefaults("Secret", props) as Inputs);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  },

  async update(id, olds, news, ctx) {
    const lv = await ctx.connect(news.host);
    const secret = await secretByUuid(lv, id);
    if (!secret) throw new Error(`secret ${id} no longer exists; run pulumi refresh`);
    const { changed } = schemaDiff("Secret", olds, news);
    if (changed.includes("description")) {
      await lv.SecretDefineXML({ xml: buildSecretXml({ ...news, uuid: id }), flags: 0 });
    }
    if (changed.includes("value") || changed.includes("valueEncoding")) {
      await setValue(lv, secret, news);
      ctx.log(`virtwire: secret ${id}: value changed`);
    }
    return describe(lv, secret, news);
  },

  async delete(id, props, ctx) {
    const lv = await ctx.connect(props.host);
    const secret = await secretByUuid(lv, id);
    if (!secret) return;
    await lv.SecretUndefine({ secret }).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
  },
};

async function setValue(lv: Libvirt, secret: RemoteNonnullSecret, inputs: Inputs): Promise<void> {
  if (inputs.value === undefined || inputs.value === null) return;
  const value = valueBytes(inputs.value, inputs.valueEncoding);
  await lv.SecretSetValue({ secret, value, flags: 0 });
}

function isOwn(secret: RemoteNonnullSecret, ctx: ResourceContext): boolean {
  return ctx.owner !== undefined && uuidMarks(formatUuid(secret.uuid), ctx.owner.mark);
}

function takenMessage(inputs: Inputs, taken: RemoteNonnullSecret): string {
  return `a secret for ${inputs.usageType} ${JSON.stringify(inputs.usageId)} already exists (uuid ${formatUuid(taken.uuid)}), and virtwire did not create it for this resource; libvirt allows one secret per usage, so nothing was changed: use another usageId, or import that secret (pulumi import virtwire:index:Secret <name> ${formatUuid(taken.uuid)}), or remove it if nothing needs it`;
}

/**
 * Before a fresh create: the secret that holds the wanted usage is this resource's leftover when
 * its UUID has the mark (also its own secret under `pulumi up --replace`, whose delete later finds
 * it gone), and is removed; any other fails the create, touching nothing. Secrets without a usage
 * are never in the way, and a leftover of those is named by the failed create's error.
 */
async function removeLeftover(lv: Libvirt, inputs: Inputs, ctx: ResourceContext): Promise<void> {
  const taken = await secretByUsage(lv, inputs.usageType, inputs.usageId);
  if (!taken) return;
  if (!ctx.owner?.fresh || !isOwn(taken, ctx)) throw new Error(takenMessage(inputs, taken));
  await lv.SecretUndefine({ secret: taken });
  ctx.log(
    leftoverRemoved(`secret ${formatUuid(taken.uuid)} for ${inputs.usageType} ${inputs.usageId}`),
  );
}

/**
 * The outputs as libvirt has the secret. The value is read back unless the secret is private
 * (libvirt refuses to give it out): then it stays as last given, and is not compared. `fromNothing`
 * (a get): whatever libvirt has, bytes that are no text in base64.
 */
async function describe(
  lv: Libvirt,
  secret: RemoteNonnullSecret,
  carried: Inputs,
  fromNothing = false,
): Promise<SecretOutputs> {
  const found = readSecretXml((await lv.SecretGetXMLDesc({ secret, flags: 0 })).xml);
  let value = found.private ? carried.value : undefined;
  let valueEncoding = carried.valueEncoding;
  if (!found.private) {
    const stored = await storedValue(lv, secret);
    if (stored) ({ value, valueEncoding } = valueRead(stored, carried.value, valueEncoding));
  }
  // libvirt drops an empty description: "" as given reads back as none.
  const description =
    found.description === undefined && carried.description === "" && !fromNothing
      ? ""
      : found.description;
  return {
    usageType: found.usageType,
    usageId: found.usageId,
    description,
    value,
    valueEncoding,
    private: found.private,
    ephemeral: found.ephemeral,
    host: carried.host,
    uuid: formatUuid(secret.uuid),
  } satisfies SecretOutputs;
}

/** The stored value, or undefined when the secret has none (NO_SECRET, which isNotFound covers). */
async function storedValue(lv: Libvirt, secret: RemoteNonnullSecret): Promise<Buffer | undefined> {
  try {
    return (await lv.SecretGetValue({ secret, flags: 0 })).value;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
