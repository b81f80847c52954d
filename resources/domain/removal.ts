/**
 * Removing domains: undefine with everything libvirt keeps beside the definition, the clean-up of
 * a failed create, and the leftovers of a failed earlier create of the same resource.
 *
 * Leftovers are the domains that carry this resource's mark (resources/kit/owner.ts), whatever their
 * name: a Domain is always deleted before its replacement is created, so no domain the engine
 * knows of has the mark while a fresh create runs, and a retry with a changed program picks
 * another name while the old attempt's domain still holds its disks. Each is forced off (a running
 * leftover holds its disks' write locks; a transient one vanishes when off) and undefined. A domain
 * that has the wanted name but not the mark is somebody else's: the create fails and touches
 * nothing.
 */
import {
  DomainMetadataType,
  DomainUndefineFlags,
  ErrorCode,
  formatUuid,
  hasErrorCode,
  isNotFound,
} from "../../rpc";
import type { Libvirt, RemoteNonnullDomain } from "../../rpc";
import { unlessNotFound } from "../kit/not-found";
import { leftoverRemoved, leftoversOf, undoHalfMade } from "../kit/leftovers";
import type { HalfMade } from "../kit/leftovers";
import { RESOURCE_NAMESPACE, markInMetadata } from "../kit/owner";
import type { ResourceContext } from "../kit/resource";
import { defineValidated } from "./define";
import { stopDomain } from "./power";

/**
 * VIR_DOMAIN_UNDEFINE_*: remove what libvirt keeps beside the definition, then older sets. TPM
 * (libvirt 8.9 and later) removes the swtpm state even of a TPM marked persistent_state, which
 * libvirt would otherwise keep. With `keepNvram` (the user gave the `nvram` file, which may hold
 * enrolled keys) KEEP_NVRAM takes NVRAM's place: the definition goes, the file stays.
 */
export function undefineFlags(keepNvram: boolean): number[] {
  const nvram = keepNvram ? DomainUndefineFlags.KEEP_NVRAM : DomainUndefineFlags.NVRAM;
  const base = DomainUndefineFlags.MANAGED_SAVE | nvram | DomainUndefineFlags.SNAPSHOTS_METADATA;
  return [
    base | DomainUndefineFlags.CHECKPOINTS_METADATA | DomainUndefineFlags.TPM,
    base | DomainUndefineFlags.CHECKPOINTS_METADATA,
    base,
    0,
  ];
}

/**
 * Whether the domain's `nvram` file is one the user gave, kept when the domain goes. The state
 * holds the path libvirt reports, and libvirt names its own file when it picks the firmware (11 at
 * define, 9 at start): `<…>/libvirt/qemu/nvram/<name>_VARS.fd` (system or session daemon). That
 * one is libvirt's, removed with the domain as libvirt would, even when a user wrote it out.
 */
export function keepsNvram(name: string | undefined, nvram: string | undefined): boolean {
  if (nvram === undefined) return false;
  return name === undefined || !nvram.endsWith(`/libvirt/qemu/nvram/${name}_VARS.fd`);
}

/** Undefine with the richest flag set the daemon accepts (older ones refuse newer flags). */
export async function undefine(
  lv: Libvirt,
  dom: RemoteNonnullDomain,
  keepNvram = false,
): Promise<void> {
  const sets = undefineFlags(keepNvram);
  for (const [index, flags] of sets.entries()) {
    try {
      await lv.DomainUndefineFlags({ dom, flags });
      return;
    } catch (error) {
      const unsupported =
        hasErrorCode(error, ErrorCode.INVALID_ARG) || hasErrorCode(error, ErrorCode.NO_SUPPORT);
      if (!unsupported || index === sets.length - 1) throw error;
    }
  }
}

/**
 * Stops the domain (gracefully within `shutdownTimeout` seconds, then forced; at once with 0) and
 * undefines it (keeping its NVRAM file with `keepNvram`); a transient one is gone once off.
 */
export async function removeDomain(
  lv: Libvirt,
  dom: RemoteNonnullDomain,
  shutdownTimeout = 0,
  keepNvram = false,
): Promise<void> {
  await stopDomain(lv, dom, shutdownTimeout);
  try {
    await undefine(lv, dom, keepNvram);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/**
 * The error to throw after a create failed with `error` once `dom` was defined: the error itself
 * when the domain could be removed, else one that says what is left and how to remove it.
 * `keepNvram`: the user gave the NVRAM file, which stays.
 */
export function undoDomain(
  ctx: ResourceContext,
  error: unknown,
  dom: RemoteNonnullDomain,
  host: string | undefined,
  keepNvram = false,
): Promise<unknown> {
  const object: HalfMade = {
    host,
    what: `domain ${dom.name} (uuid ${formatUuid(dom.uuid)}), perhaps running`,
    marked: ctx.owner !== undefined,
    byHand: (virsh) =>
      `${virsh} destroy ${dom.name} (if it runs), then ${virsh} undefine ${keepNvram ? "--keep-nvram" : "--nvram"} ${dom.name}`,
  };
  return undoHalfMade(ctx, error, object, (lv) => removeDomain(lv, dom, 0, keepNvram));
}

/**
 * Before a fresh create of domain `name`: removes the leftovers of this resource, and fails if
 * `name` is taken by a domain that is not one. Does nothing unless the create is fresh. A running
 * one is shut down as the resource's own domain would be (`shutdownTimeout`): `pulumi up
 * --replace` creates first without asking diff, so the "leftover" may be the domain in the state.
 * `keepNvram`: the user gives the NVRAM file, which stays.
 */
export async function removeLeftoverDomains(
  lv: Libvirt,
  name: string,
  ctx: ResourceContext,
  shutdownTimeout: number,
  keepNvram = false,
): Promise<void> {
  const owner = ctx.owner;
  if (!owner?.fresh) return;
  const { domains } = await lv.ConnectListAllDomains({ need_results: 1, flags: 0 });
  const found = await Promise.all(
    domains.map(async (dom) => ({ object: dom, name: dom.name, mark: await markOf(lv, dom) })),
  );
  for (const { object: dom } of leftoversOf("domain", name, found, owner)) {
    const { active } = await lv.DomainIsActive({ dom }).catch(() => ({ active: 0 }));
    await removeDomain(lv, dom, shutdownTimeout, keepNvram);
    ctx.log(leftoverRemoved(`domain ${dom.name}`, "", active ? " (it was running)" : ""));
  }
}

/**
 * Defines the domain of a create. If that fails and the name is now taken by this resource's
 * leftover (a request of the failed earlier create that a daemon, frozen until just now, carried
 * out only after the search for leftovers), the leftover is removed and the define tried again.
 */
export async function defineDomain(
  lv: Libvirt,
  xml: string,
  name: string,
  ctx: ResourceContext,
): Promise<RemoteNonnullDomain> {
  const define = () => defineValidated(lv, xml);
  try {
    return await define();
  } catch (error) {
    const owner = ctx.owner;
    const found = owner?.fresh && (await unlessNotFound(() => lv.DomainLookupByName({ name })));
    if (!found || (await markOf(lv, found.dom)) !== owner!.mark) throw error;
    await removeDomain(lv, found.dom);
    ctx.log(leftoverRemoved(`domain ${name}`));
    return define();
  }
}

/** The mark in the domain's virtwire metadata; undefined when it has none (or is gone). */
async function markOf(lv: Libvirt, dom: RemoteNonnullDomain): Promise<string | undefined> {
  try {
    const { metadata } = await lv.DomainGetMetadata({
      dom,
      type: DomainMetadataType.ELEMENT,
      uri: RESOURCE_NAMESPACE,
      flags: 0,
    });
    return markInMetadata(metadata);
  } catch (error) {
    if (hasErrorCode(error, ErrorCode.NO_DOMAIN_METADATA) || isNotFound(error)) return undefined;
    throw error;
  }
}
