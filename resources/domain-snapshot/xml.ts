/**
 * The `<domainsnapshot>` XML of a DomainSnapshot: what a create sends, and what libvirt reports
 * back (its name, description, creation time, the domain's state then, its parent, where its
 * memory and each disk's data went).
 */
import { create } from "../kit/xmlbuilder";
import { disksBefore, externalDisks } from "../kit/snapshot-overlays";
import { XmlNode, attr, element, elements, parseXml, text } from "../kit/xml";

/** What a create asks for. `disks` lists each disk target and whether it gets an overlay. */
export interface SnapshotRequest {
  name: string;
  description?: string;
  /** External snapshots: where the memory goes (a full system checkpoint); unset: disk-only. */
  memoryFile?: string;
  /**
   * External snapshots: each disk of the domain and whether it gets an overlay file, and where
   * (default: libvirt's choice, beside the image; it has none for a disk given as a pool volume).
   */
  disks?: Array<{ target: string; external: boolean; overlay?: string }>;
}

export function buildSnapshotXml(request: SnapshotRequest): string {
  const root = create().ele("domainsnapshot");
  root.ele("name").txt(request.name);
  if (request.description !== undefined) root.ele("description").txt(request.description);
  if (request.memoryFile !== undefined) {
    root.ele("memory", { snapshot: "external", file: request.memoryFile });
  }
  if (request.disks !== undefined) {
    const disks = root.ele("disks");
    for (const disk of request.disks) {
      const entry = disks.ele("disk", {
        name: disk.target,
        snapshot: disk.external ? "external" : "no",
      });
      if (disk.overlay !== undefined) entry.ele("source", { file: disk.overlay });
    }
  }
  return root.end({ headless: true });
}

/** A snapshot as libvirt describes it. */
export interface SnapshotFacts {
  name: string;
  description?: string;
  /** Seconds since 1970. */
  creationTime: number;
  state: string;
  parent?: string;
  kind: "internal" | "external";
  memoryFile?: string;
  /**
   * Each disk with an external overlay: its target, the overlay's path, and the image the overlay
   * was put on (what the disk writes to again once the overlay is merged back).
   */
  overlays: Array<{ target: string; path: string; below?: DiskImage }>;
}

export function readSnapshotXml(xml: string): SnapshotFacts {
  const root = parseXml(xml, "domainsnapshot");
  const memory = element(root, "memory");
  const external = externalDisks(root);
  const before = disksBefore(root);
  const overlays: SnapshotFacts["overlays"] = [];
  for (const { target, path } of external) {
    if (path === undefined) continue;
    const replaced = before.get(target);
    overlays.push({ target, path, ...(replaced && { below: imageOf(replaced) }) });
  }
  const externalDisk = external.length > 0;
  const memoryExternal = attr(memory, "snapshot") === "external";
  return {
    name: text(root, "name") ?? "",
    description: text(root, "description"),
    creationTime: Number(text(root, "creationTime") ?? 0),
    state: text(root, "state") ?? "",
    parent: text(element(root, "parent"), "name"),
    kind: externalDisk || memoryExternal ? "external" : "internal",
    memoryFile: memoryExternal ? attr(memory, "file") : undefined,
    overlays,
  };
}

/** The file a `<source>` names (file disks), or its device (block disks). */
function sourcePath(source: XmlNode | undefined): string | undefined {
  return attr(source, "file") ?? attr(source, "dev");
}

/** A disk's top image: a file or device path, or a pool's volume (`<disk type='volume'>`). */
export interface DiskImage {
  path?: string;
  volume?: { pool: string; name: string };
}

/** A disk of a domain: its target, its current top image, and whether it can get an overlay. */
export interface DomainDisk extends DiskImage {
  target: string;
  writable: boolean;
}

/** True when both name the same image (a path, or a pool and volume). */
export function sameImage(a: DiskImage, b: DiskImage): boolean {
  if (a.path !== undefined || b.path !== undefined) return a.path === b.path;
  return (
    a.volume !== undefined && a.volume.pool === b.volume?.pool && a.volume.name === b.volume.name
  );
}

function imageOf(disk: XmlNode): DiskImage {
  const source = element(disk, "source");
  const [pool, volume] = [attr(source, "pool"), attr(source, "volume")];
  return {
    path: sourcePath(source),
    ...(pool !== undefined && volume !== undefined && { volume: { pool, name: volume } }),
  };
}

/** The disks of a `<domain>` XML (cdroms and read-only disks are not writable). */
export function readDomainDisks(xml: string): DomainDisk[] {
  const devices = element(parseXml(xml, "domain"), "devices");
  return elements(devices, "disk").map((disk) => {
    return {
      target: attr(element(disk, "target"), "dev") ?? "",
      ...imageOf(disk),
      writable:
        attr(disk, "device") !== "cdrom" &&
        attr(disk, "device") !== "floppy" &&
        element(disk, "readonly") === undefined,
    };
  });
}

/**
 * Where libvirt would put the overlay of an image for snapshot `name`: beside it, its extension
 * replaced (`/srv/vm.qcow2` → `/srv/vm.<name>`), as libvirt names overlays of file disks.
 */
export function overlayBeside(image: string, name: string): string {
  const slash = image.lastIndexOf("/");
  const dot = image.lastIndexOf(".");
  return `${dot > slash + 1 ? image.slice(0, dot) : image}.${name}`;
}

/** Whether a `<domain>` XML has the QEMU guest agent's channel. */
export function hasAgentChannel(xml: string, channelName: string): boolean {
  const devices = element(parseXml(xml, "domain"), "devices");
  return elements(devices, "channel").some(
    (channel) => attr(element(channel, "target"), "name") === channelName,
  );
}
