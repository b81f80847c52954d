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
  for (const snap of snapshots) {
    const { xml } = await lv.DomainSnapshotGetXMLDesc({ snap, flags: 0 });
    const root = parseXml(xml, "domainsnapshot");
    const before = new Map(
      elements(element(element(root, "domain"), "devices"), "disk").map((disk) => [
        attr(element(disk, "target"), "dev"),
        disk,
      ]),
    );
    for (const disk of elements(element(root, "disks"), "disk")) {
      if (attr(disk, "snapshot") !== "external") continue;
      const file = attr(element(disk, "source"), "file");
      const replaced = before.get(attr(disk, "name"));
      if (file !== undefined && replaced !== undefined) {
        overlays.set(file, { snapshot: snap.name, replaced });
      }
    }
  }
  return overlays;
}
