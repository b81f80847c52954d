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
 *                            <virtwire:resource xmlns:virtwire="https://virtwire.dev/xmlns/resource/1" urn="…" org="…"/>
 *                          </metadata>
 *   Pool, NwFilter         its UUID: the first four groups (80 bits, RFC 9562 version 8) come from
 *                          SHA-256 of the mark, the last group is random (pool and filter XML have
 *                          no metadata)
 *   Secret                 its UUID, made as a pool's (secret XML has no metadata, and its
 *                          description is the user's); the random last group gives a replacement
 *                          another id
 *   Volume, CloudInitDisk, IgnitionConfig, CombustionScript
 *                          its name, when virtwire chose it: derived from the URN (naming.ts);
 *                          and while its content is uploaded, its first 512 bytes
 *                          (resources/volume/upload-mark.ts), so that an upload cut short is
 *                          known under a name the user chose too
 *   DomainSnapshot         its name, when virtwire chose it (snapshot XML has no metadata element);
 *                          a create never takes over a snapshot of that name: libvirt refuses it
 *
 * The URN names the project and stack but not the Pulumi organization: `alice/lab/dev` and
 * `bob/lab/dev` have the same URNs. So the mark is the URN and, when the stack belongs to an
 * organization (a third hidden input, `__org`, from pulumi.getOrganization()), the organization
 * too: another organization's objects are somebody else's. A file backend has no organization
 * (the SDK says "organization"); its marks are the URN alone, as before organizations were marked.
 */
import { createHash, randomBytes } from "node:crypto";
import { formatUuid } from "../../rpc";
import { attr, children, element, unescapeXml, XmlNode } from "./xml";

/** The namespace of virtwire's element in a domain's or network's `<metadata>`. */
export const RESOURCE_NAMESPACE = "https://virtwire.dev/xmlns/resource/1";
export const RESOURCE_PREFIX = "virtwire";

export interface Owner {
  /** The resource's URN. */
  urn: string;
  /** The stack's Pulumi organization; undefined for a file backend. */
  org?: string;
  /** What objects carry as the mark: the URN, with the organization when there is one. */
  mark: string;
  /** check() saw no old inputs: no object the engine knows of has this resource's name. */
  fresh: boolean;
}

/** The owner the hidden inputs name, or undefined when they carry no URN. */
export function ownerOf(inputs: Record<string, unknown>): Owner | undefined {
  const urn = inputs.__urn;
  if (typeof urn !== "string" || !urn.startsWith("urn:pulumi:")) return undefined;
  const given = inputs.__org;
  // pulumi.getOrganization() gives this placeholder where the backend has no organizations.
  const org =
    typeof given === "string" && given !== "" && given !== "organization" ? given : undefined;
  return { urn, org, mark: markOf(urn, org), fresh: inputs.__fresh === true };
}

/** The mark of a resource: its URN, after its organization's name when it has one. */
export function markOf(urn: string, org?: string): string {
  return org === undefined ? urn : `${org}/${urn}`;
}

/**
 * The mark in virtwire's `<metadata>` element of a parsed `<domain>` or `<network>`, found by its
 * namespace (whatever the prefix), or undefined when there is none.
 */
export function markIn(root: XmlNode): string | undefined {
  const metadata = element(root, "metadata");
  if (metadata === undefined || typeof metadata === "string") return undefined;
  for (const [key, node] of children(metadata)) {
    const [prefix, local] = key.includes(":") ? key.split(":") : ["", key];
    if (local !== "resource") continue;
    const declared = attr(node, prefix ? `xmlns:${prefix}` : "xmlns");
    if (declared !== RESOURCE_NAMESPACE) continue;
    const urn = attr(node, "urn");
    // attr() gives the value decoded (xml.ts).
    return urn === undefined ? undefined : markOf(urn, attr(node, "org"));
  }
  return undefined;
}

/** The mark in the answer of DOMAIN_GET_METADATA for virtwire's namespace (`<resource urn=…/>`). */
export function markInMetadata(metadata: string): string | undefined {
  const value = (name: string) => {
    const found = new RegExp(`\\b${name}=(["'])(.*?)\\1`).exec(metadata)?.[2];
    return found === undefined ? undefined : unescapeXml(found);
  };
  const urn = value("urn");
  return urn === undefined ? undefined : markOf(urn, value("org"));
}

/** A new UUID that carries `mark` (its first four groups), for a pool. */
export function markedUuid(mark: string, random: Buffer = randomBytes(6)): string {
  const bytes = Buffer.concat([uuidPrefixBytes(mark), random.subarray(0, 6)]);
  return formatUuid(bytes);
}

/** Whether `uuid` (text form) carries `mark`. */
export function uuidMarks(uuid: string, mark: string): boolean {
  return uuid.toLowerCase().startsWith(markedUuid(mark, Buffer.alloc(6)).slice(0, 23));
}

function uuidPrefixBytes(mark: string): Buffer {
  const bytes = createHash("sha256").update(`virtwire pool\0${mark}`).digest().subarray(0, 10);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80; // version 8: custom
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // variant 10
  return bytes;
}
