/**
 * Whose an object in libvirt is: the Pulumi resource (its URN) that created it. A create uses the
 * mark to tell what a failed earlier attempt of the same resource left behind (which it removes)
 * from everything else (which it never touches).
 *
 * Two hidden inputs carry what the provider needs: `__urn`, computed by sdk/ exactly as the engine
 * computes the URN (the dynamic provider is never told it), and `__fresh`, set by check() when it
 * got no old inputs. Fresh means the engine makes a new object for the resource (a first create, a
 * retry after a failed one, or a replacement) and no object it knows of has this resource's name,
 * with one exception: `pulumi up --replace <urn>` (or a tainted resource) is checked without old
 * inputs too and runs create-first without asking diff, so the resource's own object is still
 * there, under the same name when its inputs are unchanged (volumes: resources/volume/storage.ts).
 * Without `__fresh` a create touches nothing existing.
 *
 * How each kind carries the mark:
 *
 *   Domain, Network        <metadata>
 *                            <virtwire:resource xmlns:virtwire="https://virtwire.dev/xmlns/resource/1" urn="…"/>
 *                          </metadata>
 *   Pool                   its UUID: the first four groups (80 bits, RFC 9562 version 8) come from
 *                          SHA-256 of the URN, the last group is random (pool XML has no metadata)
 *   Volume, CloudInitDisk  its name, when virtwire chose it: derived from the URN (naming.ts);
 *                          volumes carry nothing else, so a name the user chose marks nothing
 */
import { createHash, randomBytes } from "node:crypto";
import { formatUuid } from "../rpc";
import { attr, element, XmlNode } from "./xml";

/** The namespace of virtwire's element in a domain's or network's `<metadata>`. */
export const RESOURCE_NAMESPACE = "https://virtwire.dev/xmlns/resource/1";
export const RESOURCE_PREFIX = "virtwire";

export interface Owner {
  /** The resource's URN. */
  urn: string;
  /** check() saw no old inputs: no object the engine knows of has this resource's name. */
  fresh: boolean;
}

/** The owner the hidden inputs name, or undefined when they carry no URN. */
export function ownerOf(inputs: Record<string, unknown>): Owner | undefined {
  const urn = inputs.__urn;
  if (typeof urn !== "string" || !urn.startsWith("urn:pulumi:")) return undefined;
  return { urn, fresh: inputs.__fresh === true };
}

/**
 * The URN in virtwire's `<metadata>` element of a parsed `<domain>` or `<network>`, found by its
 * namespace (whatever the prefix), or undefined when there is none.
 */
export function markedUrn(root: XmlNode): string | undefined {
  const metadata = element(root, "metadata");
  if (metadata === undefined || typeof metadata === "string") return undefined;
  for (const [key, value] of Object.entries(metadata)) {
    const [prefix, local] = key.includes(":") ? key.split(":") : ["", key];
    if (local !== "resource") continue;
    for (const node of Array.isArray(value) ? value : [value]) {
      const declared = attr(node as XmlNode, prefix ? `xmlns:${prefix}` : "xmlns");
      const urn = attr(node as XmlNode, "urn");
      // xmlbuilder2's object form leaves entities in attribute values.
      if (declared === RESOURCE_NAMESPACE) return urn === undefined ? undefined : unescapeXml(urn);
    }
  }
  return undefined;
}

/** The URN in the answer of DOMAIN_GET_METADATA for virtwire's namespace (`<resource urn=…/>`). */
export function urnOfMetadata(metadata: string): string | undefined {
  const value = /\burn=(["'])(.*?)\1/.exec(metadata)?.[2];
  return value === undefined ? undefined : unescapeXml(value);
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function unescapeXml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos);/g, (_, entity: string) => ENTITIES[entity]!);
}

/** A new UUID that carries the mark of `urn` (its first four groups), for a pool. */
export function markedUuid(urn: string, random: Buffer = randomBytes(6)): string {
  const bytes = Buffer.concat([uuidPrefixBytes(urn), random.subarray(0, 6)]);
  return formatUuid(bytes);
}

/** Whether `uuid` (text form) carries the mark of `urn`. */
export function uuidMarks(uuid: string, urn: string): boolean {
  return uuid.toLowerCase().startsWith(markedUuid(urn, Buffer.alloc(6)).slice(0, 23));
}

function uuidPrefixBytes(urn: string): Buffer {
  const bytes = createHash("sha256").update(`virtwire pool\0${urn}`).digest().subarray(0, 10);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80; // version 8: custom
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // variant 10
  return bytes;
}
