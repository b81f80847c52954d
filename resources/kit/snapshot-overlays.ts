/**
 * What external snapshots put on top of a domain's disks. An external snapshot moves each disk
 * onto a new overlay file; the snapshot keeps the domain definition of before, so each overlay
 * maps to the `<disk>` it replaced. A Domain reads its disks through these (describe.ts), so an
 * external DomainSnapshot is no change of the Domain's `disks` and refresh finds nothing to undo.
 */
import { ErrorCode, hasErrorCode, isNotFound } from "../../rpc";
import type { Libvirt, RemoteNonnullDomain } from "../../rpc";
import { XmlNode, attr, element, elements, parseXml } from "./xml";

/** An overlay file's snapshot (by name) and the `<disk>` the overlay replaced. */
export interface Overlay {
  snapshot: string;
  replaced: XmlNode;
}

/** Each overlay file of the domain's external snapshots. */
export async function snapshotOverlays(
  lv: Libvirt,
  dom: RemoteNonnullDomain,
): Promise<Map<string, Overlay>> {
  const overlays = new Map<string, Overlay>();
  let snapshots;
  try {
    ({ snapshots } = await lv.DomainListAllSnapshots({ dom, need_results: 1, flags: 0 }));
  } catch (error) {
    if (isNotFound(error) || hasErrorCode(error, ErrorCode.NO_SUPPORT)) return overlays;
    throw error;
  }
  // One round trip for all of them: the connection carries concurrent calls.
  const xmls = await Promise.all(
    snapshots.map((snap) => lv.DomainSnapshotGetXMLDesc({ snap, flags: 0 })),
  );
  for (const [index, snap] of snapshots.entries()) {
    const root = parseXml(xmls[index]!.xml, "domainsnapshot");
    const before = disksBefore(root);
    for (const { target, path } of externalDisks(root)) {
      const replaced = before.get(target);
      if (path !== undefined && replaced !== undefined) {
        overlays.set(path, { snapshot: snap.name, replaced });
      }
    }
  }
  return overlays;
}

/**
 * Each disk a `<domainsnapshot>` put on an overlay (`<disks><disk snapshot='external'>`): its
 * target and the overlay's file (or block device); no path when libvirt names none.
 */
export function externalDisks(root: XmlNode): Array<{ target: string; path?: string }> {
  return elements(element(root, "disks"), "disk")
    .filter((disk) => attr(disk, "snapshot") === "external")
    .map((disk) => {
      const source = element(disk, "source");
      return {
        target: attr(disk, "name") ?? "",
        path: attr(source, "file") ?? attr(source, "dev"),
      };
    });
}

/** The `<disk>`s of the domain definition a `<domainsnapshot>` keeps, by target. */
export function disksBefore(root: XmlNode): Map<string | undefined, XmlNode> {
  return new Map(
    elements(element(element(root, "domain"), "devices"), "disk").map((disk) => [
      attr(element(disk, "target"), "dev"),
      disk,
    ]),
  );
}
