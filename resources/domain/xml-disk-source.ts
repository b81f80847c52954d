/**
 * A disk's source in the domain XML, one of four kinds (https://libvirt.org/formatdomain.html):
 *
 *   <disk type="volume">  <source pool volume/>
 *   <disk type="file">    <source file/>
 *   <disk type="block">   <source dev/>                   (`block`, or a `file` below /dev)
 *   (volume, file and block sources may hold <encryption format="luks"><secret type="passphrase"
 *    uuid|usage/></encryption>: the passphrase of a LUKS image, `encryptionSecret`)
 *   <disk type="network"> <source protocol="nbd|iscsi|rbd" name?>
 *                           <host name port?/>*
 *                           <auth username> <secret type="iscsi|ceph" uuid|usage/> </auth>?
 *                         </source>
 *
 * An empty CD-ROM drive has no `<source>`. libvirt also accepts `<auth>` beside `<source>` (its
 * older place) and writes it back where it found it: both are read.
 */
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces";
import { looksLikeUuid } from "../kit/get";
import { attr, element, elements, parseXml } from "../kit/xml";
import type { XmlNode } from "../kit/xml";
import type { DomainDisk, DomainDiskNetwork } from "../kit/generated/types";

type DiskType = "volume" | "file" | "block" | "network";

/** libvirt's usage type of the secret each protocol authenticates with. */
const SECRET_TYPE: Record<string, string> = { iscsi: "iscsi", rbd: "ceph" };

/** A `file` below /dev is a block device, as before `block` existed: the same disk either way. */
export function withBlockSource<D extends DomainDisk>(disk: D): D {
  if (typeof disk.file !== "string" || !disk.file.startsWith("/dev/")) return disk;
  const { file, ...rest } = disk;
  return { ...rest, block: file } as D;
}

export function diskType(disk: DomainDisk): DiskType {
  if (disk.volume) return "volume";
  if (disk.network) return "network";
  return disk.block !== undefined || disk.file?.startsWith("/dev/") ? "block" : "file";
}

export function addDiskSource(node: XMLBuilder, disk: DomainDisk): void {
  const block = disk.block ?? (disk.file?.startsWith("/dev/") ? disk.file : undefined);
  let source: XMLBuilder | undefined;
  if (disk.volume)
    source = node.ele("source", { pool: disk.volume.pool, volume: disk.volume.name });
  else if (disk.network) addNetworkSource(node, disk.network);
  else if (block !== undefined) source = node.ele("source", { dev: block });
  else if (disk.file !== undefined) source = node.ele("source", { file: disk.file });
  // The passphrase of a LUKS image (raw or qcow2), which QEMU gets from libvirt's secret.
  if (source && disk.encryptionSecret) {
    const secret = disk.encryptionSecret;
    const by = looksLikeUuid(secret) ? { uuid: secret } : { usage: secret };
    source.ele("encryption", { format: "luks" }).ele("secret", { type: "passphrase", ...by });
  }
}

function addNetworkSource(node: XMLBuilder, network: DomainDiskNetwork): void {
  const source = node.ele("source", {
    protocol: network.protocol,
    ...(network.name !== undefined ? { name: network.name } : {}),
  });
  for (const host of network.hosts ?? []) {
    source.ele("host", { name: host.name, ...(host.port ? { port: String(host.port) } : {}) });
  }
  const auth = network.auth;
  if (!auth) return;
  const secret: Record<string, string> = { type: SECRET_TYPE[network.protocol] ?? "iscsi" };
  if (auth.secretUuid !== undefined) secret.uuid = auth.secretUuid;
  else if (auth.secretUsage !== undefined) secret.usage = auth.secretUsage;
  source.ele("auth", { username: auth.username }).ele("secret", secret);
}

/** The source of a `<disk>`, only what it has. */
export function readDiskSource(disk: XmlNode): Partial<DomainDisk> {
  const source = element(disk, "source");
  const type = attr(disk, "type");
  if (!source) return {};
  if (type === "network") return { network: readNetwork(disk, source) };
  const pool = attr(source, "pool");
  const volume = attr(source, "volume");
  if (pool !== undefined && volume !== undefined) return { volume: { pool, name: volume } };
  const dev = attr(source, "dev");
  if (dev !== undefined) return { block: dev };
  const file = attr(source, "file");
  return file !== undefined ? { file } : {};
}

function readNetwork(disk: XmlNode, source: XmlNode): DomainDiskNetwork {
  const network: DomainDiskNetwork = {
    protocol: attr(source, "protocol") as DomainDiskNetwork["protocol"],
    hosts: elements(source, "host").map((host) => {
      const port = attr(host, "port");
      return { name: attr(host, "name") ?? "", ...(port ? { port: Number(port) } : {}) };
    }),
  };
  const name = attr(source, "name");
  if (name !== undefined) network.name = name;
  const auth = element(source, "auth") ?? element(disk, "auth");
  if (auth) {
    const secret = element(auth, "secret");
    const uuid = attr(secret, "uuid");
    const usage = attr(secret, "usage");
    network.auth = {
      username: attr(auth, "username") ?? "",
      ...(uuid !== undefined ? { secretUuid: uuid } : {}),
      ...(usage !== undefined ? { secretUsage: usage } : {}),
    };
  }
  return network;
}

/**
 * The images below a disk's source, as libvirt keeps them in the definition of a domain an
 * external snapshot moved onto an overlay (each `<backingStore type>` with `<format type>` and a
 * `<source>` as above, nested); `closed` when the chain ends in an empty `<backingStore/>` (the
 * last image has no backing), else libvirt probes on below the last image.
 */
export interface BackingChain {
  images: { source: Partial<DomainDisk>; format?: string }[];
  closed: boolean;
}

export function readBackingChain(disk: XmlNode): BackingChain {
  const images: BackingChain["images"] = [];
  let store = element(disk, "backingStore");
  for (; store !== undefined && element(store, "source"); store = element(store, "backingStore")) {
    images.push({ source: readDiskSource(store), format: attr(element(store, "format"), "type") });
  }
  return { images, closed: store !== undefined };
}

export function addBackingChain(node: XMLBuilder, chain: BackingChain): void {
  let parent = node;
  for (const { source, format } of chain.images) {
    parent = parent.ele("backingStore", { type: diskType(source) });
    if (format !== undefined) parent.ele("format", { type: format });
    addDiskSource(parent, source);
  }
  if (chain.closed) parent.ele("backingStore");
}

/** The backing chain of each disk of a domain's XML, by target. */
export function backingChains(domainXml: string): Map<string, BackingChain> {
  const devices = element(parseXml(domainXml, "domain"), "devices");
  const chains = new Map<string, BackingChain>();
  for (const disk of elements(devices, "disk")) {
    const target = attr(element(disk, "target"), "dev");
    if (target !== undefined) chains.set(target, readBackingChain(disk));
  }
  return chains;
}
