/**
 * The `<domainsnapshot>` XML of a DomainSnapshot: what a create sends, and what libvirt reports
 * back (its name, description, creation time, the domain's state then, its parent, where its
 * memory and each disk's data went).
 */
import { create } from "../kit/xmlbuilder";
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
  /** Each disk with an external overlay: its target and the overlay's path. */
  overlays: Array<{ target: string; path: string }>;
}

export function readSnapshotXml(xml: string): SnapshotFacts {
  const root = parseXml(xml, "domainsnapshot");
  const memory = element(root, "memory");
  const overlays: SnapshotFacts["overlays"] = [];
  let externalDisk = false;
  for (const disk of elements(element(root, "disks"), "disk")) {
    if (attr(disk, "snapshot") !== "external") continue;
    externalDisk = true;
    const path = sourcePath(element(disk, "source"));
    if (path !== undefined) overlays.push({ target: attr(disk, "name") ?? "", path });
  }
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

/** A disk of a domain: its target, its current top image, and whether it can get an overlay. */
export interface DomainDisk {
  target: string;
  path?: string;
  /** A disk given as a pool's volume (`<disk type='volume'>`). */
  volume?: { pool: string; name: string };
  writable: boolean;
}

/** The disks of a `<domain>` XML (cdroms and read-only disks are not writable). */
export function readDomainDisks(xml: string): DomainDisk[] {
  const devices = element(parseXml(xml, "domain"), "devices");
  return elements(devices, "disk").map((disk) => {
    const source = element(disk, "source");
    const [pool, volume] = [attr(source, "pool"), attr(source, "volume")];
    return {
      target: attr(element(disk, "target"), "dev") ?? "",
      path: sourcePath(source),
      ...(pool !== undefined && volume !== undefined && { volume: { pool, name: volume } }),
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
