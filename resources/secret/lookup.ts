/**
 * Finding secrets: by UUID (the id), by usage (libvirt allows one secret per usage type and id),
 * or by usage id alone for a get; and the secret that already holds a wanted usage, with whose it is.
 */
import { formatUuid, Libvirt, parseUuid, RemoteNonnullSecret, SecretUsageType } from "../../rpc";
import { NotFoundError, lookupByUuidOrName } from "../kit/get";
import type { SecretUsageType as UsageName } from "../kit/generated/types";
import { unlessNotFound } from "../kit/not-found";
import { uuidMarks } from "../kit/owner";

const USAGE_NUMBER: Record<Exclude<UsageName, "none">, SecretUsageType> = {
  volume: SecretUsageType.VOLUME,
  ceph: SecretUsageType.CEPH,
  iscsi: SecretUsageType.ISCSI,
  tls: SecretUsageType.TLS,
  vtpm: SecretUsageType.VTPM,
};

/** The secret with this UUID (text form), or undefined when libvirt has none. */
export async function secretByUuid(
  lv: Libvirt,
  uuid: string,
): Promise<RemoteNonnullSecret | undefined> {
  return (await unlessNotFound(() => lv.SecretLookupByUUID({ uuid: parseUuid(uuid) })))?.secret;
}

/** The secret that holds this usage, or undefined. */
export async function secretByUsage(
  lv: Libvirt,
  usageType: UsageName,
  usageId: string | undefined,
): Promise<RemoteNonnullSecret | undefined> {
  if (usageType === "none" || usageId === undefined) return undefined;
  const usage = { usageType: USAGE_NUMBER[usageType], usageID: usageId };
  return (await unlessNotFound(() => lv.SecretLookupByUsage(usage)))?.secret;
}

/** "it belongs to <mark>" or "virtwire did not create it for this resource". */
export function whose(secret: RemoteNonnullSecret, mark: string | undefined): string {
  return mark !== undefined && uuidMarks(formatUuid(secret.uuid), mark)
    ? "it is this resource's own"
    : "virtwire did not create it for this resource";
}

/** For a get: the secret `id` names, by UUID or usage id (one match among every secret). */
export async function findSecretForGet(lv: Libvirt, id: string): Promise<RemoteNonnullSecret> {
  const byUuid = await lookupByUuidOrName(
    id,
    async (uuid) => (await lv.SecretLookupByUUID({ uuid })).secret,
    async () => undefined,
  );
  if (byUuid) return byUuid;
  const { secrets } = await lv.ConnectListAllSecrets({ need_results: 1, flags: 0 });
  const matches = secrets.filter((secret) => secret.usageID === id);
  if (matches.length > 1) {
    const uuids = matches.map((secret) => formatUuid(secret.uuid)).join(", ");
    throw new Error(
      `several secrets have the usage id ${JSON.stringify(id)} (${uuids}): pass the UUID of the one you mean`,
    );
  }
  if (matches[0] === undefined) {
    throw new NotFoundError(
      "secret",
      id,
      "UUID or usage id",
      " (virsh secret-list lists the secrets of a host)",
    );
  }
  return matches[0];
}
