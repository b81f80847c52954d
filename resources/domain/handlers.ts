/**
 * Domain: define (validated) → autostart → start → wait for addresses and cloud-init on create,
 * all undone if a step fails; updates classified by diff.ts and applied live, by redefining (with
 * a restart only when the domain runs and `allowRestart` allows it), with the power state enforced
 * last (a start with a fresh NVRAM when `resetNvram` changed, nvram.ts); delete shuts down
 * gracefully, forces off after `shutdownTimeout`, and undefines with NVRAM (unless the user gave the
 * `nvram` file), TPM state, managed save, snapshot and checkpoint metadata. A domain already gone is fine to delete.
 */
import { DomainXMLFlags, formatUuid, parseUuid } from "../../rpc";
import type { Libvirt, RemoteNonnullDomain } from "../../rpc";
import { unlessNotFound } from "../kit/not-found";
import { NotFoundError, lookupByUuidOrName } from "../kit/get";
import type { ChangeClass, ResourceContext, ResourceHandlers } from "../kit/resource";
import type { DomainInputs, DomainOutputs } from "../kit/generated/types";
import type { CheckedDomainInputs } from "../kit/generated/checked";
import { leaseBaseline } from "./addresses";
import { ensureAddressesCanCome, waitForAddresses } from "./address-wait";
import { checkDomain } from "./check";
import { defineValidated } from "./define";
import { preflightDomain } from "./preflight";
import { describeDomain, readOverlaid } from "./describe";
import { hasUnknown } from "./devices";
import {
  changesDiskSources,
  keepOverlays,
  refuseOverlaidChanges,
  refuseOverlaidInputs,
} from "./overlays";
import { Classification, changeLabel, classifyChanges } from "./diff";
import { applyLiveChanges, lookupVolumeFormats } from "./live";
import { CloudInitWaitError, waitForCloudInit } from "./cloud-init-wait";
import { checkedDomain, diskWithDefaults } from "./normalize";
import { explainHostdevStart } from "./hostdev-start";
import { entriesOf, removeDhcpEntries, syncDhcpEntries } from "./nic-dhcp";
import type { DhcpEntry } from "./nic-dhcp";
import { planDomain } from "./plan";
import { defineDomain, keepsNvram, removeLeftoverDomains, undefine, undoDomain } from "./removal";
import { wantsNvramReset } from "./firmware-state";
import { START_WITH_FRESH_NVRAM, resetNvramWhileOff } from "./nvram";
import { domainState, ensureRunning, isRunningState, stopDomain } from "./power";
import { buildDomainXml } from "./xml-build";
import { readDomainXml } from "./xml-read";

export const domainHandlers: ResourceHandlers<DomainInputs, DomainOutputs> = {
  check: (inputs) => checkDomain(checkedDomain(inputs)),
  preflight: (inputs, olds, ctx) => preflightDomain(checkedDomain(inputs), olds, ctx),

  diff(id, olds, given, ctx) {
    const news = checkedDomain(given);
    // What a refresh found is shown as it is: nothing is about to be applied.
    if (ctx?.refresh) return decide(id, olds, news, ctx);
    // The power state is the one thing that drifts on its own (a guest shuts down, someone runs
    // virsh destroy): ask libvirt, so a plain `pulumi up` restores it without a refresh first.
    if (ctx) {
      return withLiveRunning(id, olds, ctx).then(async (live) => {
        await refuseOverlaidAtPreview(id, live, news, ctx);
        return decide(id, live, news, ctx);
      });
    }
    return decide(id, olds, news);
  },

  async create(given, ctx) {
    const inputs = checkedDomain(given);
    const lv = await ctx.connect(inputs.host);
    // An `nvram` file the user gave may hold enrolled keys: removing a domain keeps it.
    const keepNvram = keepsNvram(inputs.name, inputs.nvram);
    await removeLeftoverDomains(lv, inputs.name, ctx, inputs.shutdownTimeout, keepNvram);
    const plan = planDomain(inputs, undefined, await lookupVolumeFormats(lv, inputs));
    const xml = buildDomainXml({ ...plan, owner: ctx.owner });
    const dom = await defineDomain(lv, xml, inputs.name, ctx);
    const entries = entriesOf(plan.interfaces);
    const added: DhcpEntry[] = [];
    // Until the engine has the id, a failure must remove the domain: describing it is part of that.
    try {
      await syncDhcpEntries(lv, [], entries, added);
      if (inputs.autostart) await lv.DomainSetAutostart({ dom, autostart: 1 });
      if (inputs.running) await startAndWait(lv, dom, inputs, ctx);
      return { id: formatUuid(dom.uuid), outs: (await describeDomain(lv, dom, inputs)).outputs };
    } catch (error) {
      // Only the entries this create added: an equal one that was there (its ADD failed) stays.
      // Best effort, as the undo is; what is left is said, not thrown over the create's error.
      await removeDhcpEntries(lv, added).catch((undoError: Error) =>
        ctx.warn(`virtwire: domain ${inputs.name}: ${undoError.message}`),
      );
      const undone = await undoDomain(ctx, error, dom, inputs.host, keepNvram);
      if (undone !== error || !(error instanceof CloudInitWaitError)) throw undone;
      // The guest whose log the message points to is gone: say how to keep one to look into.
      throw new CloudInitWaitError(
        `${error.message}. The domain was removed, as a failed create's always is; to look inside such a guest, create it without waitForCloudInit and read /var/log/cloud-init.log there`,
        { cause: error },
      );
    }
  },

  async get(id, state, ctx) {
    const lv = await ctx.connect(state.host);
    const dom = await lookupByUuidOrName(
      id,
      async (uuid) => (await lv.DomainLookupByUUID({ uuid })).dom,
      async (name) => (await lv.DomainLookupByName({ name })).dom,
    );
    if (!dom) {
      throw new NotFoundError(
        "domain",
        id,
        "UUID or name",
        " (virsh list --all lists the domains of a host)",
      );
    }
    // The properties the user never set are reported as libvirt has them: complete as it is.
    const { outputs } = await describeDomain(lv, dom, state);
    return { id: formatUuid(dom.uuid), outs: outputs };
  },

  async read(id, props, ctx) {
    const lv = await ctx.connect(props.host);
    const dom = await lookup(lv, id);
    // Undefined between the lookup and the description is gone too.
    return dom && unlessNotFound(async () => (await describeDomain(lv, dom, props)).outputs);
  },

  async update(id, olds, given, ctx) {
    const news = checkedDomain(given);
    const lv = await ctx.connect(news.host);
    const dom = await lookup(lv, id);
    if (!dom) throw new Error(`domain ${olds.name} (${id}) no longer exists; run pulumi refresh`);
    // Classify against libvirt's state now, not the state of the last read (the configuration
    // and power state only: addresses and the display port play no part).
    const before = await describeDomain(lv, dom, olds, false);
    const classification = classifyChanges(
      { ...before.outputs, running: before.outputs.running || before.active },
      news,
    );
    if (classification.replaces.length > 0) {
      throw new Error(
        `${classification.replaces.join(", ")} cannot change without replacing the domain; run pulumi up again to replace it`,
      );
    }
    refuseUnallowedRestart(classification, news);
    const line = summary(news.name, classification);
    // diff printed the same line moments ago in this process, unless libvirt changed in between.
    if (announced.get(id) !== line) ctx.log(line);
    announced.delete(id);
    const formats = await lookupVolumeFormats(lv, news);
    const planned = planDomain(news, before.description, formats, id);
    // A disk an external snapshot moved stays on its overlay; a new source for it is refused.
    refuseOverlaidChanges(news.name, planned.disks, before.overlaid);
    const plan = { ...planned, disks: keepOverlays(planned.disks, before.overlaid) };
    if (classification.needsRedefine) {
      await defineValidated(lv, buildDomainXml({ ...plan, owner: ctx.owner }));
      if (classification.needsRestart) {
        const how = await stopDomain(lv, dom, news.shutdownTimeout);
        ctx.log(`virtwire: domain ${news.name}: stopped (${how}) to restart it`);
      }
    } else {
      await applyLiveChanges(lv, dom, before.outputs, plan, before.active);
    }
    // The DHCP entries of fixed addresses: removed for interfaces gone, added for new ones.
    await syncDhcpEntries(
      lv,
      entriesOf(before.outputs.networkInterfaces),
      entriesOf(plan.interfaces),
    );
    if (before.outputs.autostart !== news.autostart) {
      await lv.DomainSetAutostart({ dom, autostart: news.autostart ? 1 : 0 });
    }
    const freshNvram = wantsNvramReset(classification.changes);
    if (news.running) {
      await startAndWait(lv, dom, news, ctx, freshNvram ? START_WITH_FRESH_NVRAM : 0);
    } else {
      await stopDomain(lv, dom, news.shutdownTimeout);
      if (freshNvram) await resetNvramWhileOff(lv, dom);
    }
    return (await describeDomain(lv, dom, news)).outputs;
  },

  async delete(id, props, ctx) {
    const lv = await ctx.connect(props.host);
    const dom = await lookup(lv, id);
    if (!dom) return;
    await unlessNotFound(() => stopDomain(lv, dom, props.shutdownTimeout));
    // Before the undefine: should removing them fail, a retry still finds the domain.
    await removeDhcpEntries(lv, entriesOf(props.networkInterfaces ?? []));
    await unlessNotFound(() => undefine(lv, dom, keepsNvram(props.name, props.nvram)));
  },
};

/**
 * One line per update: each change, named by the user's property, and how it is applied
 * (`virtwire: domain vm: memory 128MiB → 192MiB [restart]; autostart false → true [live]`).
 */
export function summary(name: string | undefined, classification: Classification): string {
  const parts = classification.changes.map((change) => `${change.detail} [${changeLabel(change)}]`);
  return `virtwire: domain ${name}: ${parts.length ? parts.join("; ") : "no changes"}`;
}

/**
 * Starts the domain unless it runs, then waits for addresses and, after a start, for cloud-init,
 * if asked. Leases from before this start do not count (leaseBaseline), so a restarted guest is
 * not reported up before it is.
 */
async function startAndWait(
  lv: Libvirt,
  dom: RemoteNonnullDomain,
  inputs: CheckedDomainInputs,
  ctx: ResourceContext,
  startFlags = 0,
): Promise<void> {
  const wait = inputs.waitForAddresses;
  const { xml } = await lv.DomainGetXMLDesc({ dom, flags: DomainXMLFlags.INACTIVE });
  const description = readDomainXml(xml);
  const starting = !(await lv.DomainIsActive({ dom })).active;
  const query = wait && ({ source: wait.source, qemuAgent: description.qemuAgent } as const);
  if (query) await ensureAddressesCanCome(lv, description.networkInterfaces, query);
  const baseline =
    wait && starting ? await leaseBaseline(lv, description.networkInterfaces) : undefined;
  await ensureRunning(lv, dom, startFlags).catch((error: unknown) => {
    throw explainHostdevStart(error, inputs.name, inputs.hostdevs);
  });
  if (wait && query) {
    const { byMac, elapsedMs } = await waitForAddresses(lv, dom, description.networkInterfaces, {
      ...query,
      timeoutSeconds: wait.timeout,
      baseline,
      status: (line) => ctx.status(`virtwire: domain ${inputs.name}: ${line}`),
    });
    const found = [...byMac.values()].flat().join(", ");
    ctx.log(`virtwire: domain ${inputs.name}: addresses ${found} after ${seconds(elapsedMs)} s`);
  }
  // cloud-init runs as the guest boots: a domain that was running already has nothing to wait for.
  if (inputs.waitForCloudInit && starting) {
    const { elapsedMs } = await waitForCloudInit(lv, dom, {
      timeoutSeconds: inputs.waitForCloudInit.timeout,
      seedAttached: description.cloudInitDisk !== undefined,
      status: (line) => ctx.status(`virtwire: domain ${inputs.name}: ${line}`),
    });
    ctx.log(`virtwire: domain ${inputs.name}: cloud-init finished after ${seconds(elapsedMs)} s`);
  }
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);

/** The summary line diff printed last for a domain id, so that update does not print it again. */
const announced = new Map<string, string>();

function refuseUnallowedRestart(classification: Classification, news: CheckedDomainInputs): void {
  const restarts = classification.changes.filter((change) => change.class === "restart");
  if (restarts.length > 0 && news.allowRestart === false) {
    throw new Error(
      `allowRestart is false, and ${restarts.length > 1 ? "these changes need" : "this change needs"} a restart of the running domain: ${restarts.map((change) => change.detail).join("; ")}; nothing was changed: set allowRestart: true, or running: false to apply it while shut off`,
    );
  }
}

/**
 * The diff, and in preview and up its summary line: the plugin drops detailed diffs, so a line on
 * the resource (engine-log.ts) is how a preview shows whether each change is live, restarts or
 * replaces the domain. A refresh's diff prints and refuses nothing.
 */
function decide(id: string, olds: DomainOutputs, news: CheckedDomainInputs, ctx?: ResourceContext) {
  const classification = classifyChanges(olds, news);
  if (!ctx?.refresh) {
    // Fail at preview, before anything is touched, rather than halfway through an update.
    refuseUnallowedRestart(classification, news);
    if (ctx && classification.changes.length > 0) {
      const line = summary(news.name, classification);
      ctx.log(line);
      announced.set(id, line);
    }
  }
  return {
    changes: classification.changes.length > 0,
    replaces: classification.replaces,
    classes: propertyClasses(classification),
    // Never run two domains on the same disks and MAC addresses, not even for a moment. Set even
    // with no replacement here: a replacement that `replaceOnChanges` asks for takes this flag too,
    // and a create-first replacement would meet the old domain as its own leftover.
    deleteBeforeReplace: true,
  };
}

/** The order in which one property's several changes name its class: the weightiest first. */
const WEIGHT: ChangeClass[] = ["replace", "restart", "offline", "power", "live", "setting"];

/** Each changed top-level property and the weightiest way one of its changes is applied. */
export function propertyClasses(classification: Classification): Record<string, ChangeClass> {
  const classes: Record<string, ChangeClass> = {};
  for (const change of classification.changes) {
    const property = change.property.split(/[.[]/)[0]!;
    const known = classes[property];
    if (!known || WEIGHT.indexOf(change.class) < WEIGHT.indexOf(known)) {
      classes[property] = change.class;
    }
  }
  for (const property of classification.replaces) classes[property] = "replace";
  return classes;
}

/**
 * At preview, a disk that external snapshots moved onto an overlay may not get a new source or
 * go (overlays.ts). libvirt is asked only when a disk's source changes, and the sources are known.
 */
async function refuseOverlaidAtPreview(
  id: string,
  olds: DomainOutputs,
  news: CheckedDomainInputs,
  ctx: ResourceContext,
): Promise<void> {
  if (!Array.isArray(news.disks) || hasUnknown(news.disks)) return;
  const wanted = news.disks.map(diskWithDefaults);
  const current = olds.disks ?? [];
  if (!changesDiskSources(wanted, current)) return;
  const lv = await ctx.connect(olds.host);
  const dom = await lookup(lv, id);
  if (dom) refuseOverlaidInputs(news.name, wanted, current, await readOverlaid(lv, dom));
}

/** The last outputs with `running` as libvirt has it now (unchanged if the domain is gone). */
async function withLiveRunning(
  id: string,
  olds: DomainOutputs,
  ctx: ResourceContext,
): Promise<DomainOutputs> {
  const lv = await ctx.connect(olds.host);
  const dom = await lookup(lv, id);
  if (!dom) return olds;
  return { ...olds, running: isRunningState(await domainState(lv, dom)) };
}

function lookup(lv: Libvirt, id: string): Promise<RemoteNonnullDomain | undefined> {
  return unlessNotFound(async () => (await lv.DomainLookupByUUID({ uuid: parseUuid(id) })).dom);
}
