/**
 * DomainSnapshot: a snapshot of a domain, internal (inside the qcow2 images) or external (an
 * overlay file per disk, disk-only or with a memory file). The id is `<domain uuid>/<name>`.
 *
 * Every input but `revert` replaces the snapshot, the old one deleted first (a new external
 * snapshot on top of the old one's overlay would keep that one from being merged back).
 * `revert` is a trigger: a new value reverts the domain to the snapshot at `pulumi up`
 * (update), and shows in the preview as a change of `revert` with a warning.
 *
 * The mark (resources/kit/owner.ts): libvirt's snapshot XML has no metadata element, so like a
 * volume's, a snapshot's mark is its name when virtwire chose it (derived from the URN,
 * kit/naming.ts). A create never takes over or deletes a snapshot that already has its name:
 * libvirt refuses the duplicate and nothing changes (snapshots are made atomically, so a failed
 * create leaves none behind to clean up).
 */
import {
  DomainSnapshotCreateFlags,
  ErrorCode,
  formatUuid,
  hasErrorCode,
  parseUuid,
} from "../../rpc";
import type { Libvirt, RemoteNonnullDomain, RemoteNonnullDomainSnapshot } from "../../rpc";
import { schemaDiff } from "../kit/diff";
import { UNKNOWN, fillDefaults } from "../kit/check";
import { NotFoundError, lookupByUuidOrName, looksLikeUuid } from "../kit/get";
import { unlessNotFound } from "../kit/not-found";
import type { CheckFailure, ResourceHandlers } from "../kit/resource";
import type { DomainSnapshotInputs, DomainSnapshotOutputs } from "../kit/generated/types";
import { removeFiles } from "./files";
import { mergeAndForget, refusedAsUnsupported } from "./merge";
import {
  buildSnapshotXml,
  hasAgentChannel,
  overlayBeside,
  readDomainDisks,
  readSnapshotXml,
} from "./xml";

/** The channel the QEMU guest agent talks on (as the Domain's `qemuAgent` adds it). */
const AGENT_CHANNEL = "org.qemu.guest_agent.0";

type Inputs = DomainSnapshotInputs;
type Outputs = DomainSnapshotOutputs;

export const domainSnapshotHandlers: ResourceHandlers<Inputs, Outputs> = {
  check(inputs) {
    const failures: CheckFailure[] = [];
    // An unknown kind is known at up, where create meets what libvirt refuses.
    if ((inputs.kind as string) === UNKNOWN) return failures;
    const external = inputs.kind === "external";
    if (inputs.memoryFile !== undefined && !external) {
      failures.push({
        property: "memoryFile",
        reason:
          "memoryFile is for external snapshots: set kind: external, or remove memoryFile (an internal snapshot of a running domain keeps its memory inside the disk image)",
      });
    }
    if (inputs.quiesce === true && (!external || inputs.memoryFile !== undefined)) {
      failures.push({
        property: "quiesce",
        reason:
          "quiesce works for disk-only snapshots only: set kind: external without memoryFile, or quiesce: false",
      });
    }
    return failures;
  },

  diff(_id, olds, news, ctx) {
    const result = schemaDiff("DomainSnapshot", olds, news);
    const reverts =
      result.changed.includes("revert") && result.replaces.length === 0 && isSet(news.revert);
    if (reverts && !ctx?.refresh) {
      ctx?.warn(
        `virtwire: revert changed: pulumi up reverts domain ${olds.domain} to snapshot ${olds.name}; what changed in it since is lost`,
      );
    }
    return { ...result, deleteBeforeReplace: result.replaces.length > 0 };
  },

  async create(inputs, ctx) {
    const lv = await ctx.connect(inputs.host);
    const dom = await findDomain(lv, inputs.domain);
    const { xml, flags } = await request(lv, dom, inputs);
    let snap: RemoteNonnullDomainSnapshot;
    try {
      ({ snap } = await lv.DomainSnapshotCreateXML({ dom, xml_desc: xml, flags }));
    } catch (error) {
      throw await explainCreateFailure(lv, dom, inputs, error);
    }
    return { id: idOf(dom, snap.name), outs: await describe(lv, dom, snap, inputs) };
  },

  async get(id, state, ctx) {
    const lv = await ctx.connect(state.host);
    const cut = id.lastIndexOf("/");
    const accepted = "`<domain uuid or name>/<snapshot name>`";
    if (cut <= 0) throw new NotFoundError("domain snapshot", id, accepted);
    const dom = await lookupByUuidOrName(
      id.slice(0, cut),
      async (uuid) => (await lv.DomainLookupByUUID({ uuid })).dom,
      async (name) => (await lv.DomainLookupByName({ name })).dom,
    );
    const name = id.slice(cut + 1);
    const snap = dom && (await lookupSnapshot(lv, dom, name));
    if (!dom || !snap) throw new NotFoundError("domain snapshot", id, accepted);
    const carried = fillDefaults("DomainSnapshot", { host: state.host, domain: dom.name });
    const outs = await describe(lv, dom, snap, carried);
    return { id: idOf(dom, name), outs };
  },

  async read(id, props, ctx) {
    const lv = await ctx.connect(props.host);
    const found = await byId(lv, id);
    return found && describe(lv, found.dom, found.snap, props);
  },

  async update(id, olds, news, ctx) {
    const lv = await ctx.connect(news.host);
    const found = await byId(lv, id);
    if (!found)
      throw new Error(
        `snapshot ${olds.name} of domain ${olds.domain} no longer exists: run pulumi refresh (it drops the snapshot from the state), then pulumi up creates it again`,
      );
    if (isSet(news.revert) && news.revert !== olds.revert) {
      ctx.status(`reverting domain ${found.dom.name} to snapshot ${found.snap.name}`);
      await lv.DomainRevertToSnapshot({ snap: found.snap, flags: 0 });
      ctx.log(`virtwire: reverted domain ${found.dom.name} to snapshot ${found.snap.name}`);
    }
    return describe(lv, found.dom, found.snap, news);
  },

  async delete(id, props, ctx) {
    const lv = await ctx.connect(props.host);
    const found = await byId(lv, id);
    if (!found) return;
    const { dom, snap } = found;
    const facts = readSnapshotXml((await lv.DomainSnapshotGetXMLDesc({ snap, flags: 0 })).xml);
    if (facts.kind === "external") {
      const files = facts.overlays.map((overlay) => overlay.path);
      if (facts.memoryFile !== undefined) files.push(facts.memoryFile);
      try {
        await lv.DomainSnapshotDelete({ snap, flags: 0 });
      } catch (error) {
        if (!refusedAsUnsupported(error)) throw error;
        await mergeAndForget(lv, dom, snap, facts, ctx, error);
        await removeFiles(lv, files, { ctx, host: props.host });
        return;
      }
      await removeFiles(lv, files);
      return;
    }
    await lv.DomainSnapshotDelete({ snap, flags: 0 });
  },
};

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== "" && value !== UNKNOWN;
}

const idOf = (dom: RemoteNonnullDomain, name: string) => `${formatUuid(dom.uuid)}/${name}`;

async function findDomain(lv: Libvirt, domain: string): Promise<RemoteNonnullDomain> {
  const dom = await lookupByUuidOrName(
    domain,
    async (uuid) => (await lv.DomainLookupByUUID({ uuid })).dom,
    async (name) => (await lv.DomainLookupByName({ name })).dom,
  );
  if (!dom)
    throw new Error(
      `no domain has the name or UUID ${JSON.stringify(domain)}: set domain to an existing Domain's name or UUID (e.g. vm.name)`,
    );
  return dom;
}

function lookupSnapshot(lv: Libvirt, dom: RemoteNonnullDomain, name: string) {
  return unlessNotFound(
    async () => (await lv.DomainSnapshotLookupByName({ dom, name, flags: 0 })).snap,
  );
}

/**
 * The domain and snapshot an id names; undefined when libvirt says either is gone. Any other
 * error (a lost connection, a refused login) is thrown: refresh must not drop a snapshot from
 * state, nor delete skip one, because the daemon could not be asked.
 */
async function byId(lv: Libvirt, id: string) {
  const cut = id.lastIndexOf("/");
  const uuid = id.slice(0, cut);
  // virtwire's ids always start with the domain's UUID; anything else names no snapshot.
  if (!looksLikeUuid(uuid)) return undefined;
  const dom = await unlessNotFound(
    async () => (await lv.DomainLookupByUUID({ uuid: parseUuid(uuid) })).dom,
  );
  const snap = dom && (await lookupSnapshot(lv, dom, id.slice(cut + 1)));
  return dom && snap ? { dom, snap } : undefined;
}

/** The XML and flags of a create, refusing what needs a running domain when it is off. */
async function request(lv: Libvirt, dom: RemoteNonnullDomain, inputs: Inputs) {
  const name = inputs.name!;
  const description = inputs.description;
  if (inputs.kind !== "external") return { xml: buildSnapshotXml({ name, description }), flags: 0 };
  const { active } = await lv.DomainIsActive({ dom });
  const what = `domain ${dom.name} is shut off`;
  if (inputs.memoryFile !== undefined && !active) {
    throw new Error(`memoryFile needs a running domain, and ${what}: remove memoryFile`);
  }
  if (inputs.quiesce && !active) {
    throw new Error(
      `quiesce needs a running domain with its guest agent, and ${what}: start the domain (running: true), or set quiesce: false`,
    );
  }
  const { xml } = await lv.DomainGetXMLDesc({ dom, flags: 0 });
  const disks = await Promise.all(
    readDomainDisks(xml).map(async (disk) => ({
      target: disk.target,
      external: disk.writable,
      // libvirt names no overlay for a volume disk: virtwire puts it where it would for a file.
      overlay:
        disk.writable && disk.volume
          ? overlayBeside(await volumePath(lv, disk.volume), name)
          : undefined,
    })),
  );
  const memoryFile = inputs.memoryFile;
  let flags = DomainSnapshotCreateFlags.ATOMIC;
  if (memoryFile === undefined) flags |= DomainSnapshotCreateFlags.DISK_ONLY;
  if (inputs.quiesce) flags |= DomainSnapshotCreateFlags.QUIESCE;
  return { xml: buildSnapshotXml({ name, description, memoryFile, disks }), flags };
}

async function volumePath(lv: Libvirt, volume: { pool: string; name: string }): Promise<string> {
  const { pool } = await lv.StoragePoolLookupByName({ name: volume.pool });
  const { vol } = await lv.StorageVolLookupByName({ pool, name: volume.name });
  return (await lv.StorageVolGetPath({ vol })).name;
}

/** A failed quiesced create explained by what the domain lacks; other errors as they are. */
async function explainCreateFailure(
  lv: Libvirt,
  dom: RemoteNonnullDomain,
  inputs: Inputs,
  error: unknown,
): Promise<unknown> {
  if (!inputs.quiesce) return error;
  const { xml } = await lv.DomainGetXMLDesc({ dom, flags: 0 });
  if (!hasAgentChannel(xml, AGENT_CHANNEL)) {
    return new Error(
      `quiesce needs the QEMU guest agent, and domain ${dom.name} has no agent channel: set qemuAgent: true on the Domain (and run qemu-guest-agent in the guest), or set quiesce: false`,
    );
  }
  if (hasErrorCode(error, ErrorCode.AGENT_UNRESPONSIVE)) {
    return new Error(
      `quiesce needs the QEMU guest agent, and it does not answer in domain ${dom.name}: start qemu-guest-agent in the guest, or set quiesce: false`,
    );
  }
  return error;
}

async function describe(
  lv: Libvirt,
  dom: RemoteNonnullDomain,
  snap: RemoteNonnullDomainSnapshot,
  carried: Partial<Inputs> | Outputs,
): Promise<Outputs> {
  const facts = readSnapshotXml((await lv.DomainSnapshotGetXMLDesc({ snap, flags: 0 })).xml);
  const { current } = await lv.DomainSnapshotIsCurrent({ snap, flags: 0 });
  return {
    domain: carried.domain ?? dom.name,
    domainUuid: formatUuid(dom.uuid),
    name: facts.name,
    // libvirt keeps no empty description: "" given reads back as given, not as a change.
    description: facts.description ?? (carried.description === "" ? "" : undefined),
    kind: facts.kind,
    memoryFile: facts.memoryFile,
    quiesce: carried.quiesce ?? false,
    revert: carried.revert,
    host: carried.host,
    creationTime: facts.creationTime,
    state: facts.state,
    parent: facts.parent,
    current: current === 1,
    overlays: facts.overlays.map((overlay) => overlay.path),
  } satisfies Outputs;
}
