/**
 * Storage volume XML (https://libvirt.org/formatstorage.html#storage-volume-xml), built for
 * STORAGE_VOL_CREATE_XML and read back from STORAGE_VOL_GET_XML_DESC:
 *
 *   <volume>
 *     <name>disk.qcow2</name>
 *     <capacity unit="bytes">…</capacity>      what the guest sees (qcow2: the virtual size)
 *     <allocation unit="bytes">0</allocation>  omitted, libvirt would allocate the whole capacity
 *     <target> <format type="raw|qcow2|iso|…"/> <compat>1.1</compat> <path>…</path>
 *       <encryption format="luks"> <secret type="passphrase" uuid="…"/> </encryption>  </target>
 *     <backingStore> <path>/base.qcow2</path> <format type="qcow2"/> </backingStore>
 *   </volume>
 *
 * libvirt adds `<key>`, `<physical>`, permissions and timestamps; a dir pool reads the format from
 * the file's content when it refreshes, so a raw volume holding an ISO image reads back as `iso`.
 */
import { create } from "../kit/xmlbuilder";
import { parseSize } from "../kit/units";
import { attr, element, parseXml, text } from "../kit/xml";
import { looksLikeUuid } from "../kit/get";

export interface VolumeSpec {
  name: string;
  /** Bytes; may be left out for an overlay, which then takes its base's capacity. */
  capacity?: number;
  format: string;
  backingStore?: { path: string; format: string };
  /** LUKS with the passphrase of this libvirt secret: its UUID, or a volume secret's usage id. */
  encryption?: { secret: string };
}

export function buildVolumeXml(spec: VolumeSpec): string {
  const volume = create().ele("volume");
  volume.ele("name").txt(spec.name);
  if (spec.capacity !== undefined) {
    volume.ele("capacity", { unit: "bytes" }).txt(String(spec.capacity));
  }
  // Sparse: a raw file of `capacity` bytes with nothing allocated, a qcow2 file without preallocation.
  volume.ele("allocation", { unit: "bytes" }).txt("0");
  const target = volume.ele("target");
  target.ele("format", { type: spec.format });
  // qcow2 v3; without <compat> libvirt writes v2 (0.10). Every QEMU that libvirt 9 and later
  // drive (4.2 and up) reads v3, so there is no reason to ask for the older format.
  if (spec.format === "qcow2") target.ele("compat").txt("1.1");
  // raw: a LUKS container (qemu-img create -f luks); qcow2: qcow2's own LUKS encryption.
  if (spec.encryption) {
    const secret = spec.encryption.secret;
    const by = looksLikeUuid(secret) ? { uuid: secret } : { usage: secret };
    target.ele("encryption", { format: "luks" }).ele("secret", { type: "passphrase", ...by });
  }
  if (spec.backingStore) {
    const backing = volume.ele("backingStore");
    backing.ele("path").txt(spec.backingStore.path);
    backing.ele("format", { type: spec.backingStore.format });
  }
  return volume.end({ headless: true, prettyPrint: true });
}

export interface VolumeDescription {
  name: string;
  key: string;
  path: string;
  /** libvirt's probe of the content: `raw`, `qcow2`, `iso`, …; `raw` when it reports none. */
  format: string;
  capacity: number;
  allocation: number;
  backingStore?: { path: string; format?: string };
}

export function readVolumeXml(xml: string): VolumeDescription {
  const volume = parseXml(xml, "volume");
  const target = element(volume, "target");
  const backing = element(volume, "backingStore");
  const backingPath = text(backing, "path");
  return {
    name: text(volume, "name") ?? "",
    key: text(volume, "key") ?? "",
    path: text(target, "path") ?? "",
    format: attr(element(target, "format"), "type") ?? "raw",
    capacity: bytes(element(volume, "capacity")),
    allocation: bytes(element(volume, "allocation")),
    backingStore: backingPath === undefined ? undefined : readBackingStore(backing, backingPath),
  };
}

/** No `format` key at all when libvirt gives none: Pulumi cannot store undefined values. */
function readBackingStore(
  backing: ReturnType<typeof element>,
  path: string,
): { path: string; format?: string } {
  const format = attr(element(backing, "format"), "type");
  return format === undefined ? { path } : { path, format };
}

/** A size element in bytes, whatever its `unit` (libvirt writes `bytes`; users may write K, MiB, G…). */
function bytes(node: ReturnType<typeof element>): number {
  return parseSize(`${text(node) ?? "0"}${attr(node, "unit") ?? ""}`) ?? 0;
}

/**
 * Which of the two input formats a volume's probed format counts as: qcow2 is qcow2; anything else
 * (raw, iso, …) is content kept byte for byte, which is what `raw` asks for.
 */
export function formatClass(format: string | undefined): "raw" | "qcow2" {
  return format === "qcow2" ? "qcow2" : "raw";
}
