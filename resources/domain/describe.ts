/**
 * A Domain's outputs from libvirt: the configuration from the inactive XML (what the next boot
 * uses, and what drift is judged against), the power state, and, while it runs, the display port
 * and the interfaces' addresses. User intent is preserved: a size or machine alias the user wrote
 * is reported as written when libvirt's value means the same; virtwire's own settings are carried
 * over as given. Properties the user did not set are reported as libvirt has them, and diff never
 * compares them.
 */
import { DomainXMLFlags, formatUuid } from "../../rpc";
import type { Libvirt, RemoteNonnullDomain } from "../../rpc";
import type { DomainInputs, DomainOutputs } from "../kit/generated/types";
import { interfaceStates, lookupAddresses } from "./addresses";
import { machineOutputs } from "./machine-state";
import { firmwareOutputs } from "./firmware-state";
import { withDhcpEntries } from "./nic-dhcp";
import { domainDefaults, domainWaitForAddressesDefaults } from "../kit/generated/checked";
import { sameMachine, sizeInUserSpelling } from "./normalize";
import { domainState, isRunningState, stateName } from "./power";
import { snapshotOverlays } from "../kit/snapshot-overlays";
import type { DomainDisk } from "../kit/generated/types";
import { DomainDescription, readDisk, readDomainXml, readGraphicsPort } from "./xml-read";
import { describedAsInputs } from "./edits-read";
import { backingChains } from "./xml-disk-source";
import type { OverlaidDisk } from "./overlays";

export interface DomainSnapshot {
  outputs: DomainOutputs;
  description: DomainDescription;
  /** Active in libvirt's sense: running, paused or suspended (a live config exists). */
  active: boolean;
  /** The disks external snapshots moved onto overlays (description.disks reads through them). */
  overlaid: OverlaidDisk[];
}

/**
 * `runTimeFacts: false` leaves out the display port and the addresses (a live XML read and address
 * queries), for callers that only compare the configuration.
 */
export async function describeDomain(
  lv: Libvirt,
  dom: RemoteNonnullDomain,
  previous: Partial<DomainInputs | DomainOutputs>,
  runTimeFacts = true,
): Promise<DomainSnapshot> {
  const [{ xml }, state, { autostart }, { active }] = await Promise.all([
    // SECURE: with the display's password, an output kept secret (schema.json), never logged.
    lv.DomainGetXMLDesc({ dom, flags: DomainXMLFlags.INACTIVE | DomainXMLFlags.SECURE }),
    domainState(lv, dom),
    lv.DomainGetAutostart({ dom }),
    lv.DomainIsActive({ dom }),
  ]);
  const live = readDomainXml(xml);
  const overlaid = await overlaidDisks(lv, dom, xml, live.disks);
  live.disks = live.disks.map((disk) => overlaid.find((o) => o.top === disk)?.configured ?? disk);
  // What xmlEdits override is reported as the inputs while libvirt holds the edited values.
  const description = describedAsInputs(live, previous);
  const running = isRunningState(state);
  let graphicsPort: number | undefined;
  let byMac = new Map<string, string[]>();
  if (running && runTimeFacts) {
    graphicsPort = readGraphicsPort((await lv.DomainGetXMLDesc({ dom, flags: 0 })).xml);
    // The wait's source; without a wait (or in a get, with no inputs), the default one: any.
    const source = previous.waitForAddresses?.source ?? domainWaitForAddressesDefaults.source;
    const query = { source, qemuAgent: description.qemuAgent } as const;
    // Addresses are a report, not a requirement: a failure to look them up leaves them empty.
    byMac =
      (await lookupAddresses(lv, dom, description.networkInterfaces, query).catch(() => undefined))
        ?.byMac ?? byMac;
  }
  const interfaces = interfaceStates(description.networkInterfaces, byMac);
  const networkInterfaces =
    description.dhcpMacs.length > 0
      ? await withDhcpEntries(lv, description.networkInterfaces, new Set(description.dhcpMacs))
      : description.networkInterfaces;
  const outputs: DomainOutputs = {
    name: description.name,
    type: description.type,
    vcpu: description.vcpu,
    maxVcpus: description.maxVcpus,
    memory: sizeInUserSpelling(previous.memory, description.memoryBytes),
    maxMemory: sizeInUserSpelling(
      previous.maxMemory ??
        (description.maxMemoryBytes === description.memoryBytes ? previous.memory : undefined),
      description.maxMemoryBytes,
    ),
    machine:
      previous.machine && sameMachine(previous.machine, description.machine)
        ? previous.machine
        : description.machine,
    arch: description.arch,
    firmware: description.firmware,
    boot: description.boot,
    kernel: description.kernel,
    initrd: description.initrd,
    cmdline: description.cmdline,
    disks: description.disks,
    cloudInitDisk: description.cloudInitDisk,
    networkInterfaces,
    hostdevs: description.hostdevs,
    graphics: description.graphics,
    console: description.console,
    qemuAgent: description.qemuAgent,
    graphicsPassword: description.graphicsPassword,
    video: description.video,
    spiceAgent: description.spiceAgent,
    rng: description.rng,
    watchdog: description.watchdog,
    sound: description.sound,
    inputs: description.inputs,
    memoryBalloon: description.memoryBalloon,
    ...machineOutputs(description, previous),
    ...firmwareOutputs(description, previous),
    autostart: autostart === 1,
    running,
    // virtwire's own settings, not libvirt's: carried over as given (a get has none: defaults).
    shutdownTimeout: previous.shutdownTimeout ?? domainDefaults.shutdownTimeout,
    allowRestart: previous.allowRestart ?? domainDefaults.allowRestart,
    waitForAddresses: previous.waitForAddresses,
    waitForCloudInit: previous.waitForCloudInit,
    xmlPatches: previous.xmlPatches,
    xmlEdits: previous.xmlEdits,
    host: previous.host,
    uuid: formatUuid(dom.uuid),
    state: stateName(state),
    macAddresses: description.networkInterfaces.map((nic) => nic.mac ?? ""),
    interfaces,
    ipAddress: interfaces
      .flatMap((nic) => nic.addresses)
      .find((addr) => /^\d+\.\d+\.\d+\.\d+$/.test(addr)),
    graphicsPort,
  };
  return { outputs, description: live, active: active === 1, overlaid };
}

/**
 * The disks an external snapshot moved onto an overlay file, each with the disk as the user
 * configured it: the image (volume or file) it had before, through a chain of such snapshots too.
 */
async function overlaidDisks(
  lv: Libvirt,
  dom: RemoteNonnullDomain,
  xml: string,
  disks: DomainDisk[],
): Promise<OverlaidDisk[]> {
  if (!disks.some((disk) => disk.file !== undefined)) return [];
  const overlays = await snapshotOverlays(lv, dom);
  if (overlays.size === 0) return [];
  const chains = backingChains(xml);
  return disks.flatMap((top) => {
    let configured = top;
    const snapshots: string[] = [];
    for (let depth = 0; depth < 64 && configured.file !== undefined; depth++) {
      const overlay = overlays.get(configured.file);
      const before = overlay && readDisk(overlay.replaced)[0];
      if (!overlay || !before) break;
      snapshots.push(overlay.snapshot);
      configured = { ...configured };
      for (const key of ["volume", "file", "format"] as const) {
        if (before[key] === undefined) delete configured[key];
        else Object.assign(configured, { [key]: before[key] });
      }
    }
    if (snapshots.length === 0 || top.target === undefined) return [];
    const chain = chains.get(top.target) ?? { images: [], closed: false };
    return [{ top, chain, configured, snapshots }];
  });
}

/** The disks of the domain's definition that external snapshots moved onto overlays. */
export async function readOverlaid(lv: Libvirt, dom: RemoteNonnullDomain): Promise<OverlaidDisk[]> {
  const { xml } = await lv.DomainGetXMLDesc({ dom, flags: DomainXMLFlags.INACTIVE });
  return overlaidDisks(lv, dom, xml, readDomainXml(xml).disks);
}
