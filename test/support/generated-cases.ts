/**
 * Generated inputs for every resource kind, for the property-based test
 * (test/integration/generated-inputs.test.ts): schema.json gives the shapes and the rules
 * (schema-inputs.ts); the hints here give what only the test bed knows (the tiny guest, this run's
 * pool, network, files and URL) and keep what is generated inside this run's scratch directory
 * and names. Whatever the schema leaves free (names of DHCP hosts, DNS host names, kernel command
 * line additions, permissions, sizes…) stays random, refusals included.
 */
import { parseSize } from "../../resources/kit/units";
import { GUEST_CMDLINE, GUEST_INITRD, GUEST_KERNEL } from "./guest";
import { Hints, Random, schemaInputs } from "./schema-inputs";
import { finishDiskTuning } from "./generated-disks";

type Args = Record<string, unknown>;

/** What a run made for its cases to use. */
export interface Fixture {
  /** A directory of this run: pool targets and console logs go below it. */
  scratch: string;
  /**
   * A running dir pool of this run, and its volumes: a raw one and a qcow2 one for volume
   * references, a seed ISO, and a raw and a qcow2 one that disks name by path only (so that no
   * image is named both ways in one domain: preview cannot know that a path is a volume's).
   */
  pool: string;
  volumes: Record<
    "raw" | "qcow2" | "seed" | "fileRaw" | "fileQcow2",
    { name: string; path: string }
  >;
  /** A running isolated network of this run with DHCP, and its bridge. */
  network: string;
  bridge: string;
  /** A local file with random data and a run of zeros, served at `url` too. */
  file: { path: string; sha256: string; size: number };
  url: string;
}

export const KINDS = [
  "Pool",
  "Network",
  "Volume",
  "CloudInitDisk",
  "IgnitionConfig",
  "CombustionScript",
  "Domain",
  "NwFilter",
  "Secret",
] as const;
export type Kind = (typeof KINDS)[number];

const MiB = 1024 ** 2;

/** The inputs of one generated case: `logical` is its resource name, which own names start with. */
export function generateArgs(kind: Kind, random: Random, fixture: Fixture, logical: string): Args {
  const args = schemaInputs(kind, random, HINTS[kind](fixture, logical));
  return finish(kind, args, random, fixture);
}

/**
 * Inputs for an update of a case: each property of a fresh draw replaces the old one with a
 * chance of one in four.
 */
export function mutateArgs(
  kind: Kind,
  args: Args,
  random: Random,
  fixture: Fixture,
  logical: string,
): Args {
  const fresh = generateArgs(kind, random, fixture, logical);
  const result: Args = {};
  for (const key of new Set([...Object.keys(args), ...Object.keys(fresh)])) {
    const value = random.chance(0.25) ? fresh[key] : args[key];
    if (value !== undefined) result[key] = value;
  }
  return finish(kind, result, random, fixture);
}

/** A name of the case's own: the resource name, then what the name's pattern allows, up to `max`. */
const ownName = (logical: string, max: number) => (random: Random) =>
  random.chance(0.5)
    ? undefined
    : logical + random.matching(`^[A-Za-z0-9_.+:-]{0,${max - logical.length}}$`);

/** Mostly the default host; sometimes spelt out, or a host that is not configured (refused). */
const host: Hints[string] = (random) =>
  random.chance(0.85) ? undefined : random.pick(["default", "", random.text(6)]);

/** Leaves a property out, or sets it only sometimes with what the schema alone would make. */
const never = () => undefined;
const sometimes =
  (chance: number): Hints[string] =>
  (random, generate) =>
    random.chance(chance) ? generate() : undefined;

/** A size in one of the spellings users write. */
function spelled(random: Random, bytes: number): number | string {
  const spellings: (number | string)[] = [bytes, String(bytes), `${bytes} B`];
  if (bytes % 1024 === 0) spellings.push(`${bytes / 1024}KiB`, `${bytes / 1024}K`);
  if (bytes % MiB === 0) spellings.push(`${bytes / MiB}MiB`, `${bytes / MiB} M`);
  if (bytes % (MiB / 8) === 0) spellings.push(`${bytes / 1024 ** 3}GiB`);
  return random.pick(spellings);
}

/** One path segment below the scratch directory (never `.` or `..`). */
function segment(random: Random): string {
  const name = random.matching("^[^\\u0000/]{1,12}$");
  return name === "." || name === ".." ? `${name}x` : name;
}

const HINTS: Record<Kind, (fixture: Fixture, logical: string) => Hints> = {
  Pool: (fixture, logical) => ({
    name: ownName(logical, 100),
    // Other pool types need block devices or NFS servers this machine does not have.
    type: () => "dir",
    // As users write paths too: a trailing slash, a doubled one.
    targetPath: (random) =>
      `${fixture.scratch}/${random.pick(["", "/"])}${segment(random)}${random.pick(["", "", "/"])}`,
    source: sometimes(0.15),
    host,
  }),

  Network: (_fixture, logical) => ({
    name: ownName(logical, 100),
    // A bridge of this run's own: a random name could be an interface of the host.
    "bridge.name": (random) => (random.chance(0.8) ? `vwp${random.hex(8)}` : undefined),
    forwardDevice: sometimes(0.2),
    "dnsHosts[].hostnames[]": (random, generate) =>
      random.chance(0.85) ? random.matching("^[a-z][a-z0-9-]{0,10}(\\.[a-z]{2,5})?$") : generate(),
    "dnsForwarders[].address": (random, generate) =>
      random.chance(0.8) ? random.pick(["10.9.9.9", "fd00::53", undefined]) : generate(),
    // dnsmasq refuses to start with an option it does not know: ones it takes, as users write them.
    "dnsmasqOptions[]": (random) =>
      random.pick(["no-negcache", "cache-size=300", "log-async", "neg-ttl=30", "local-ttl=60"]),
    "nat.addressStart": (random, generate) =>
      random.chance(0.85) ? `192.0.2.${random.int(1, 9)}` : generate(),
    "nat.addressEnd": (random, generate) =>
      random.chance(0.85) ? `192.0.2.${random.int(9, 20)}` : generate(),
    // libvirt's tc limits need the sfq qdisc, which this host's kernel does not have.
    bandwidth: never,
    "portGroups[].bandwidth": never,
    host,
  }),

  Volume: (fixture, logical) => ({
    name: ownName(logical, 255),
    pool: () => fixture.pool,
    capacity: (random) =>
      random.chance(0.4)
        ? undefined
        : spelled(random, random.pick([0, 512, 65536, MiB, 10 * MiB, 1024 * MiB])),
    baseVolume: (random, generate) =>
      random.chance(0.7)
        ? undefined
        : random.pick([
            { pool: fixture.pool, name: fixture.volumes.qcow2.name },
            { pool: fixture.pool, name: fixture.volumes.raw.name },
            { key: fixture.volumes.qcow2.path },
            generate(),
          ]),
    cloneOf: (random) =>
      random.chance(0.8)
        ? undefined
        : {
            pool: fixture.pool,
            name: random.pick([fixture.volumes.raw, fixture.volumes.qcow2]).name,
          },
    // The other patterns need scrub on the host; zero is libvirt's own.
    wipeOnDelete: (random) => random.pick([undefined, "none", "zero"]),
    // Needs a Secret of the run (test/integration/volume-operations.test.ts encrypts a volume).
    encryption: () => undefined,
    source: (random) => {
      if (random.chance(0.6)) return undefined;
      const where = random.pick([
        { path: fixture.file.path },
        { url: fixture.url },
        { path: fixture.volumes.qcow2.path },
      ]);
      // A wrong digest is found only by reading the whole content, which preview does not do.
      const digest = where.path === fixture.volumes.qcow2.path ? undefined : fixture.file.sha256;
      return digest && random.chance(0.4) ? { ...where, sha256: digest } : where;
    },
    host,
  }),

  NwFilter: (_fixture, logical) => ({
    name: ownName(logical, 100),
    // A reference to a filter that is not there, or to the filter itself, is refused only when a
    // guest uses the filter: references are tested in nwfilter-resource.test.ts.
    filterRefs: never,
    // Addresses of both families and variables, so that some rules pass the family check.
    "rules[].match.srcipaddr": (random) => random.pick(["10.1.2.3", "fd00::5", "$IP"]),
    "rules[].match.dstipaddr": (random) => random.pick(["10.1.2.0", "fd00::", "$GATEWAY"]),
    "rules[].match.arpsrcipaddr": (random) => random.pick(["10.1.2.3", "$IP"]),
    "rules[].match.arpdstipaddr": (random) => random.pick(["10.1.2.1", "$GATEWAY"]),
    // Printable text: XML cannot carry control characters.
    "rules[].match.comment": (random) => random.matching("^[A-Za-z0-9 .,:;_<>&-]{0,40}$"),
    "rules[].match": sometimes(0.8),
    host,
  }),

  // A usage id of the case's own (a path, as a volume secret needs; any text serves the others),
  // so that a leftover is found by name; now and then none (usageType none) or the schema's own.
  Secret: (fixture, logical) => ({
    usageType: (random, generate) =>
      random.chance(0.9) ? random.pick(["volume", "ceph", "iscsi", "tls", "vtpm"]) : generate(),
    // Base64 is text too: valid whichever the encoding.
    value: (random, generate) =>
      random.chance(0.5) ? Buffer.from(random.text(12)).toString("base64") : generate(),
    usageId: (random) =>
      random.chance(0.1) ? undefined : `${fixture.scratch}/${logical}-${random.hex(4)}`,
    host,
  }),

  CloudInitDisk: (fixture, logical) => ({
    name: ownName(logical, 255),
    pool: () => fixture.pool,
    userData: (random, generate) =>
      random.chance(0.85) ? `#cloud-config\n${random.text(40)}` : generate(),
    host,
  }),

  // Mostly content the guest would take; otherwise random text, refused at check.
  IgnitionConfig: (fixture, logical) => ({
    name: ownName(logical, 255),
    pool: () => fixture.pool,
    content: (random, generate) =>
      random.chance(0.8)
        ? JSON.stringify({ ignition: { version: "3.4.0" }, note: random.text(30) })
        : generate(),
    host,
  }),

  CombustionScript: (fixture, logical) => ({
    name: ownName(logical, 255),
    pool: () => fixture.pool,
    script: (random, generate) =>
      random.chance(0.8) ? `#!/bin/bash\n# ${random.text(40)}\n` : generate(),
    host,
  }),

  Domain: (fixture, logical) => ({
    name: ownName(logical, 100),
    // TCG: nested KVM does not boot here.
    type: () => "qemu",
    vcpu: (random) => (random.chance(0.5) ? undefined : random.int(1, 2)),
    maxVcpus: (random) => (random.chance(0.7) ? undefined : random.int(1, 4)),
    memory: (random) => spelled(random, random.pick([64, 96, 128, 256]) * MiB),
    maxMemory: (random) =>
      random.chance(0.8) ? undefined : spelled(random, random.pick([128, 256, 512]) * MiB),
    machine: (random, generate) =>
      random.chance(0.7) ? undefined : random.chance(0.8) ? random.pick(["pc", "q35"]) : generate(),
    arch: (random, generate) =>
      random.chance(0.8) ? undefined : random.chance(0.8) ? "x86_64" : generate(),
    cpu: sometimes(0.3),
    "cpu.model": (random, generate) =>
      random.chance(0.5)
        ? undefined
        : random.chance(0.8)
          ? random.pick(["qemu64", "qemu32", "kvm64"])
          : generate(),
    // Features QEMU's TCG knows, on or off where the host has them: never one a start refuses.
    "cpu.features": (random) =>
      random.chance(0.7)
        ? undefined
        : [
            {
              name: random.pick(["x2apic", "pdpe1gb"]),
              policy: random.pick(["disable", "optional"]),
            },
          ],
    // The product must be the vCPU count (finishDomain); NUMA cells are in domain-machine.test.ts.
    "cpu.numaCells": never,
    memoryBacking: sometimes(0.2),
    // The test bed's host has no huge pages (domain-machine.test.ts checks the refusal).
    "memoryBacking.hugepages": never,
    "memoryBacking.hugepageSize": never,
    // Locked memory needs a daemon that may raise QEMU's memory-lock limit; the test bed's may not.
    "memoryBacking.locked": never,
    iothreads: (random) => (random.chance(0.7) ? undefined : random.int(1, 4)),
    sysinfo: sometimes(0.3),
    "sysinfo.bios": never,
    clock: sometimes(0.3),
    "clock.timers": (random) =>
      random.pick([
        undefined,
        [{ name: "rtc", tickPolicy: "catchup" }],
        [
          { name: "hpet", present: false },
          { name: "pit", tickPolicy: "delay" },
        ],
      ]),
    features: sometimes(0.3),
    // Hyper-V under TCG: defined and read back in domain-machine.test.ts.
    "features.hyperv": never,
    metadata: (random) =>
      random.chance(0.7)
        ? undefined
        : {
            namespace: "https://example.com/xmlns/pbt/1",
            prefix: "pbt",
            xml: `<pbt><v>${escapeXml(random.text(12))}</v></pbt>`,
          },
    kernel: () => GUEST_KERNEL,
    initrd: () => GUEST_INITRD,
    cmdline: (random) =>
      random.chance(0.5) ? GUEST_CMDLINE : `${GUEST_CMDLINE} ${random.text(16)}`,
    "disks[].volume": (random) =>
      random.chance(0.5)
        ? undefined
        : {
            pool: fixture.pool,
            name: random.pick([fixture.volumes.raw, fixture.volumes.qcow2]).name,
          },
    "disks[].file": (random) => (random.chance(0.5) ? undefined : random.pick(fileImages(fixture))),
    // No block device or disk server here for a guest to start with: domain-disks.test.ts.
    "disks[].block": never,
    "disks[].network": never,
    // A secret a random usage names does not exist ("Secret not found" at create): an encrypted
    // volume opened by its secret is volume-operations.test.ts's (the network disk's auth goes
    // with disks[].network, never drawn).
    "disks[].encryptionSecret": never,
    // A disk's tuning now and then, so most disks stay plain (their rules in finishDomain).
    "disks[].cache": sometimes(0.3),
    "disks[].io": sometimes(0.2),
    "disks[].discard": sometimes(0.3),
    "disks[].detectZeroes": sometimes(0.2),
    "disks[].iothread": sometimes(0.1),
    "disks[].serial": sometimes(0.3),
    "disks[].wwn": sometimes(0.1),
    "disks[].shareable": sometimes(0.1),
    "disks[].bootOrder": sometimes(0.15),
    "disks[].iotune": sometimes(0.2),
    // A path or volume that does not exist fails only at up (it may be made by the same program);
    // the refusals here are of the shape.
    cloudInitDisk: (random) =>
      random.pick([
        undefined,
        undefined,
        { path: fixture.volumes.seed.path },
        { pool: fixture.pool, name: fixture.volumes.seed.name },
        { pool: fixture.pool },
        { path: fixture.volumes.seed.path, name: fixture.volumes.seed.name },
      ]),
    "networkInterfaces[].network": (random) => (random.chance(0.6) ? fixture.network : undefined),
    "networkInterfaces[].bridge": (random) => (random.chance(0.3) ? fixture.bridge : undefined),
    // QEMU knows these; libvirt takes any name and only QEMU's start would refuse another.
    "networkInterfaces[].model": (random) =>
      random.chance(0.5) ? undefined : random.pick(["virtio", "e1000", "rtl8139", "e1000e"]),
    // No macvtap host interface, network filter or passthrough hardware on the test bed's daemons:
    // all three are defined and read back in domain-nic-hostdevs.test.ts.
    "networkInterfaces[].direct": never,
    "networkInterfaces[].filter": never,
    hostdevs: never,
    // A fixed address must be in the fixture network's subnet, which the hints do not know; a
    // random one is refused at up (domain-nic-hostdevs.test.ts checks that refusal).
    "networkInterfaces[].address": never,
    "networkInterfaces[].hostname": never,
    // MTUs a tap device under the network's bridge takes.
    "networkInterfaces[].mtu": (random) => random.pick([undefined, undefined, 1280, 1400, 1500]),
    // libvirt's tc limits need the sfq qdisc, which this host's kernel does not have (a start
    // fails); domain-nic-hostdevs.test.ts defines shaping and reads it back.
    "networkInterfaces[].bandwidth": never,
    graphics: sometimes(0.3),
    // Not ::1: this test bed's namespace has no IPv6, and SPICE fails to start on it.
    "graphics.listen": (random, generate) =>
      random.pick([undefined, "127.0.0.1", "0.0.0.0", undefined, "127.0.0.1", generate()]),
    // A fixed port another guest of the machine might hold: a high one, rarely.
    "graphics.port": (random) => (random.chance(0.8) ? undefined : random.int(20000, 60000)),
    // Ports and addresses this host has, high ports rarely held: a bind fails only at start.
    "graphics.websocket": (random) => (random.chance(0.8) ? undefined : random.int(20000, 60000)),
    "console.port": (random) => (random.chance(0.2) ? undefined : random.int(20000, 60000)),
    "console.listen": (random, generate) =>
      random.pick([undefined, "127.0.0.1", "0.0.0.0", generate()]),
    rng: sometimes(0.3),
    video: sometimes(0.3),
    watchdog: sometimes(0.3),
    sound: sometimes(0.3),
    inputs: sometimes(0.3),
    memoryBalloon: sometimes(0.3),
    graphicsPassword: sometimes(0.2),
    spiceAgent: sometimes(0.2),
    // Shares of this run's scratch directory; virtiofs's needs are met in finishDomain.
    filesystems: sometimes(0.2),
    "filesystems[].source": () => fixture.scratch,
    "filesystems[].target": (random, generate) =>
      random.chance(0.9) ? random.matching("^[a-z][a-z0-9_]{0,15}$") : generate(),
    tpm: sometimes(0.2),
    secureBoot: sometimes(0.1),
    resetNvram: sometimes(0.1),
    // Firmware files both daemons have (Debian's ovmf); the loader matches secureBoot (finishDomain).
    loader: (random) => (random.chance(0.8) ? undefined : OVMF_CODE),
    nvram: (random) =>
      random.chance(0.7) ? undefined : `${fixture.scratch}/vars-${random.hex(6)}.fd`,
    nvramTemplate: (random) =>
      random.chance(0.7)
        ? undefined
        : random.pick(["/usr/share/OVMF/OVMF_VARS_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.ms.fd"]),
    "console.path": (random) =>
      random.chance(0.5) ? undefined : `${fixture.scratch}/console-${segment(random)}.log`,
    // The libvirt 11 daemon of the test bed runs in a chroot where QEMU cannot make a PTY: there,
    // every console is a file.
    // Nor open a random device (/dev/urandom): its rng is QEMU's own.
    ...(process.env.VIRTWIRE_DAEMON_ROOT && {
      console: (random: Random) => ({
        type: "file",
        path: `${fixture.scratch}/console-${random.hex(6)}.log`,
      }),
      "rng.source": () => "builtin",
    }),
    // The tiny guest ignores ACPI: every second of this is waited for at each delete.
    shutdownTimeout: (random) => random.int(0, 2),
    // The tiny guest has no agent and this test no time for leases: covered elsewhere.
    waitForAddresses: never,
    waitForCloudInit: never,
    xmlPatches: (random, generate) =>
      random.chance(0.75)
        ? undefined
        : random.chance(0.8)
          ? [random.pick(VALID_PATCHES)(random)]
          : generate(),
    // Any file QEMU can read will do as fw_cfg content (nothing here runs Ignition).
    ignition: (random) => (random.chance(0.8) ? undefined : { path: fixture.volumes.seed.path }),
    combustion: (random) => (random.chance(0.8) ? undefined : { path: fixture.volumes.raw.path }),
    xmlEdits: (random, generate) =>
      random.chance(0.75)
        ? undefined
        : random.chance(0.5)
          ? [random.pick(VALID_EDITS)(random)]
          : generate(),
    host,
  }),
};

/** Edits that select something in every Domain this test draws, and that libvirt takes. */
const VALID_EDITS: ((random: Random) => Record<string, unknown>)[] = [
  () => ({ xpath: "/domain/@type", value: "qemu" }),
  // Overrides cmdline where it has a random tail: read back as the input (edits-read.ts).
  () => ({ xpath: "/domain/os/cmdline", value: GUEST_CMDLINE }),
  () => ({ xpath: "features", xml: "<features><acpi/><pae/></features>" }),
];
const OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd";
const OVMF_SECURE_CODE = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd";

/** The images disks name by path. */
const fileImages = (fixture: Fixture) => [
  fixture.volumes.fileRaw.path,
  fixture.volumes.fileQcow2.path,
];

/** XML patches libvirt takes, with text of every kind where libvirt keeps it as given. */
const VALID_PATCHES: ((random: Random) => { parent: string; xml: string })[] = [
  (random) => ({ parent: ".", xml: `<description>${escapeXml(random.text(20))}</description>` }),
  () => ({ parent: "features", xml: "<pae/>" }),
  () => ({
    parent: "devices",
    xml: "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>",
  }),
];

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** What must agree across properties, which a walk over the schema cannot know. */
function finish(kind: Kind, args: Args, random: Random, fixture: Fixture): Args {
  if (kind === "Network") finishNetwork(args, random, fixture);
  if (kind === "Domain") finishDomain(args, random, fixture);
  if (kind === "Volume") finishVolume(args, fixture);
  return args;
}

/**
 * A download's size and format are known only once it starts (preview does not fetch URLs): a
 * capacity smaller than the file, and format qcow2 for the raw file, are left out for a URL source.
 */
function finishVolume(args: Args, fixture: Fixture): void {
  const source = args.source as { url?: string } | undefined;
  const capacity = parseSize(args.capacity);
  if (source?.url && capacity !== undefined && capacity < fixture.file.size) delete args.capacity;
  if (source?.url && args.format === "qcow2") delete args.format;
}

interface AddressArgs {
  address?: unknown;
  prefix?: unknown;
  dhcp?: {
    ranges?: { start?: unknown; end?: unknown }[];
    hosts?: { ip?: unknown; mac?: unknown; name?: unknown }[];
  };
}

/**
 * A bridge-mode network joins this run's bridge. Addresses get a subnet of their own (IPv4 in
 * 10.200–249, IPv6 in fd00::/8) with DHCP ranges and hosts inside it; now and then an address
 * keeps what the schema made (refused by check).
 */
function finishNetwork(args: Args, random: Random, fixture: Fixture): void {
  if (args.mode === "bridge") args.bridge = { name: fixture.bridge };
  const routed = args.mode === undefined || ["nat", "route", "open"].includes(String(args.mode));
  if (routed && !(args.addresses as unknown[] | undefined)?.length && random.chance(0.9)) {
    args.addresses = [{}];
  }
  const addresses = args.addresses as AddressArgs[] | undefined;
  addresses?.forEach((address, index) => {
    if (random.chance(0.1)) return;
    const v6 = index > 0 || random.chance(0.2);
    const net = v6
      ? `fd${random.hex(2)}:${random.hex(4)}:${random.hex(4)}::`
      : `10.${random.int(200, 249)}.${random.int(0, 255)}.`;
    address.address = `${net}1`;
    address.prefix = v6 ? 64 : 24;
    const host = (n: number) => (v6 ? `${net}${n.toString(16)}` : `${net}${n}`);
    address.dhcp?.ranges?.forEach((range, at) => {
      range.start = host(100 + at * 20);
      range.end = host(100 + at * 20 + random.int(0, 19));
    });
    address.dhcp?.hosts?.forEach((entry, at) => {
      entry.ip = host(10 + at);
    });
  });
  finishNetworkExtras(args, random);
  for (const entry of (args.dnsHosts as { ip?: unknown }[] | undefined) ?? []) {
    if (random.chance(0.9)) entry.ip = `10.${random.int(0, 255)}.${random.int(0, 255)}.7`;
  }
}

/**
 * Routes to a subnet of this run's own through a guest's address on the network (none without
 * one), NAT ranges on a nat network in order, forwarders with an address or a domain, SRV records
 * without port, priority or weight unless they have a target, one default port group, no dnsmasq
 * option twice: each rule kept nine times in ten, so refusals stay in the mix.
 */
function finishNetworkExtras(args: Args, random: Random): void {
  const usually = () => random.chance(0.9);
  const own = ((args.addresses as AddressArgs[] | undefined) ?? []).map((a) => String(a.address));
  const routes = (args.routes as Args[] | undefined) ?? [];
  for (const route of routes) {
    const v6 = random.chance(0.3);
    const on = own.find((address) => address.includes(":") === v6 && address.endsWith("1"));
    if (!on || !usually()) continue;
    route.address = v6
      ? `fd${random.hex(2)}:${random.hex(4)}:${random.hex(4)}::`
      : `10.${random.int(200, 249)}.${random.int(0, 255)}.0`;
    route.prefix = v6 ? 64 : 24;
    route.gateway = `${on.slice(0, -1)}2`;
  }
  if (args.routes && own.length === 0 && usually()) delete args.routes;
  const nat = args.nat as Args | undefined;
  if (nat && args.mode !== undefined && args.mode !== "nat" && usually()) delete args.nat;
  if (nat && usually()) {
    const ports = [random.int(1024, 65535), random.int(1024, 65535)].sort((a, b) => a - b);
    if (nat.portStart !== undefined || nat.portEnd !== undefined) {
      [nat.portStart, nat.portEnd] = ports;
    }
    if (nat.addressStart !== undefined || nat.addressEnd !== undefined) {
      [nat.addressStart, nat.addressEnd] = ["192.0.2.1", `192.0.2.${random.int(1, 20)}`];
    }
  }
  for (const forwarder of (args.dnsForwarders as Args[] | undefined) ?? []) {
    if (forwarder.address === undefined && forwarder.domain === undefined && usually()) {
      forwarder.address = "10.9.9.9";
    }
  }
  for (const srv of (args.dnsSrvRecords as Args[] | undefined) ?? []) {
    if (srv.target === undefined && usually()) {
      for (const field of ["port", "priority", "weight"]) delete srv[field];
    }
  }
  const groups = (args.portGroups as Args[] | undefined) ?? [];
  groups.forEach((group, index) => {
    if (group.default === true && groups.findIndex((g) => g.default === true) < index) {
      if (usually()) delete group.default;
    }
  });
  if (Array.isArray(args.dnsmasqOptions) && usually()) {
    args.dnsmasqOptions = [...new Set(args.dnsmasqOptions)];
  }
}

/**
 * A disk on a file gets that file's format or none: for a file (not a pool volume) the format is
 * known only on the host, and preview cannot know a mismatch. The rest makes most domains ones
 * check() accepts, each rule kept only 24 times in 25, so refusals stay in the mix (about one
 * case in five) while most cases reach the daemon.
 */
function finishDomain(args: Args, random: Random, fixture: Fixture): void {
  const formats = new Map([
    [fixture.volumes.fileRaw.path, "raw"],
    [fixture.volumes.fileQcow2.path, "qcow2"],
  ]);
  const usually = () => random.chance(0.96);
  const disks = (args.disks as Args[] | undefined) ?? [];
  for (const disk of disks) {
    if (typeof disk.file === "string" && disk.format !== undefined) {
      disk.format = formats.get(disk.file);
    }
    if (disk.file !== undefined && disk.volume !== undefined && usually()) delete disk.volume;
    if (disk.device === "cdrom" && disk.bus === "virtio" && usually()) disk.bus = "sata";
    if (disk.device === "cdrom" && disk.readOnly === false && usually()) delete disk.readOnly;
    if (disk.target !== undefined && usually()) delete disk.target;
    // QEMU has no read-only IDE or SATA disks (check.ts).
    const bus = disk.bus ?? (disk.device === "cdrom" ? "sata" : "virtio");
    if (
      disk.device !== "cdrom" &&
      disk.readOnly &&
      ["ide", "sata"].includes(String(bus)) &&
      usually()
    )
      delete disk.readOnly;
    if (disk.file === undefined && disk.volume === undefined && disk.device !== "cdrom") {
      if (usually()) disk.file = random.pick([...formats.keys()]);
      if (typeof disk.file === "string") disk.format = formats.get(disk.file);
    }
    finishDiskTuning(disk, usually, args);
  }
  // QEMU locks an image a disk writes: one disk per image.
  const images = new Set<string>();
  const image = (disk: Args) => JSON.stringify(disk.file ?? disk.volume ?? null);
  const shared = (disk: Args) =>
    disk.device !== "cdrom" && images.size === images.add(image(disk)).size;
  if (disks.some(shared) && usually()) {
    images.clear();
    args.disks = disks.filter((disk) => disk.device === "cdrom" || !shared(disk));
  }
  if (Array.isArray(args.boot) && usually()) args.boot = [...new Set(args.boot)];
  // Boot orders are unique (check-disks.ts).
  disks.forEach((disk, index) => {
    if (disk.bootOrder !== undefined && usually()) disk.bootOrder = index + 1;
  });
  const nics = (args.networkInterfaces as Args[] | undefined) ?? [];
  for (const nic of nics) {
    if (nic.network !== undefined && nic.bridge !== undefined && usually()) delete nic.bridge;
    if (nic.network === undefined && nic.bridge === undefined && usually()) {
      nic.network = fixture.network;
    }
    if (typeof nic.mac === "string" && usually()) nic.mac = `52:54:00${nic.mac.slice(8)}`;
  }
  const cpu = args.cpu as Args | undefined;
  if (cpu?.mode === "host-passthrough" && usually()) cpu.mode = "maximum";
  if (cpu && cpu.mode === "custom" && cpu.model === undefined && usually()) cpu.model = "qemu64";
  if (cpu && cpu.mode !== "custom" && cpu.model !== undefined && usually()) delete cpu.model;
  if (cpu && cpu.model === undefined && cpu.fallback !== undefined && usually())
    delete cpu.fallback;
  if (args.onCrash === "rename-restart" && usually()) delete args.onCrash;
  // The itco watchdog is part of q35's chipset (check at preflight).
  const watchdog = args.watchdog as Args | undefined;
  if (watchdog?.model === "itco" && args.machine !== "q35" && usually())
    watchdog.model = "i6300esb";
  const features = args.features as Args | undefined;
  if (args.firmware === "efi" && features?.acpi === false && usually()) delete features.acpi;
  const inputs = args.inputs as Args[] | undefined;
  if (inputs && usually()) {
    const seen = new Set<string>();
    args.inputs = inputs.filter((input) => seen.size < seen.add(`${input.type}/${input.bus}`).size);
  }
  const patches = (args.xmlPatches as Args[] | undefined) ?? [];
  const patchesDescription = patches.some((patch) => String(patch.xml).startsWith("<description"));
  if (patchesDescription && args.description !== undefined && usually()) delete args.description;
  // QEMU takes only destroy and restart there (check-machine.ts).
  for (const key of ["onPoweroff", "onReboot"]) {
    if (!["destroy", "restart", undefined].includes(args[key] as string) && usually())
      delete args[key];
  }
  const console = args.console as Args | undefined;
  if (console?.type === "file" && console.path === undefined && usually()) {
    console.path = `${fixture.scratch}/console-${random.hex(6)}.log`;
  }
  if (console?.type === "unix" && console.path === undefined && usually()) {
    console.path = `${fixture.scratch}/console-${random.hex(6)}.sock`;
  }
  const withPath = console?.type === "file" || console?.type === "unix";
  if (console && !withPath && console.path !== undefined && usually()) delete console.path;
  if (console?.type === "tcp" && console.port === undefined && usually()) {
    console.port = random.int(20000, 60000);
  }
  if (console && console.type !== "tcp" && usually()) {
    delete console.port;
    delete console.listen;
  }
  // A password needs a display, VNC reads 8 characters at most, the SPICE agent needs SPICE
  // (device-checks.ts).
  const graphics = args.graphics as Args | undefined;
  if (args.graphicsPassword !== undefined && !graphics && usually()) delete args.graphicsPassword;
  if (typeof args.graphicsPassword === "string" && graphics?.type !== "spice" && usually()) {
    args.graphicsPassword = args.graphicsPassword.slice(0, 8);
  }
  if (args.spiceAgent !== undefined && graphics?.type !== "spice" && usually()) {
    delete args.spiceAgent;
  }
  if (graphics?.type === "spice" && graphics.websocket !== undefined && usually()) {
    delete graphics.websocket;
  }
  finishShares(args, random);
  const seed = args.cloudInitDisk as Args | undefined;
  if (seed && seed.path !== undefined && seed.name !== undefined && usually()) {
    args.cloudInitDisk = { path: seed.path };
  }
  if (seed && seed.pool !== undefined && seed.name === undefined && usually()) {
    seed.name = fixture.volumes.seed.name;
  }
  if (
    typeof args.vcpu === "number" &&
    typeof args.maxVcpus === "number" &&
    args.vcpu > args.maxVcpus &&
    usually()
  ) {
    args.maxVcpus = args.vcpu;
  }
  // After maxVcpus is settled: the topology's product is the vCPU count (check-machine.ts).
  const topology = (cpu as { topology?: Args } | undefined)?.topology;
  if (topology && usually()) {
    const vcpus = (args.maxVcpus ?? args.vcpu ?? 1) as number;
    Object.assign(topology, {
      sockets: 1,
      cores: typeof vcpus === "number" ? vcpus : 1,
      threads: 1,
    });
  }
}

/**
 * virtiofs needs shared memory (check-firmware.ts), kept nine times in ten; libvirt 9.0 refuses a
 * read-only virtiofs share at define, which preview cannot know, so there is none. A user's loader
 * is a Secure Boot build exactly when secureBoot is set (libvirt 11 matches it to its descriptors).
 * The UEFI settings come mostly with what they need (firmware "efi"; q35 and SMM for Secure Boot).
 */
function finishShares(args: Args, random: Random): void {
  const shares = (args.filesystems as Args[] | undefined) ?? [];
  const virtiofs = shares.filter((share) => (share.driver ?? "virtiofs") === "virtiofs");
  for (const share of virtiofs) delete share.readOnly;
  if (virtiofs.length > 0 && random.chance(0.9)) {
    args.memoryBacking = { ...(args.memoryBacking as Args | undefined), access: "shared" };
  }
  if (args.loader !== undefined) args.loader = args.secureBoot ? OVMF_SECURE_CODE : OVMF_CODE;
  const uefi = ["secureBoot", "loader", "nvram", "nvramTemplate", "resetNvram"];
  if (uefi.some((key) => args[key] !== undefined && args[key] !== false) && random.chance(0.9)) {
    args.firmware = "efi";
  }
  if (args.loader === undefined && random.chance(0.9)) {
    delete args.nvram;
    delete args.nvramTemplate;
  }
  if (args.secureBoot === true && random.chance(0.9)) {
    args.machine = "q35";
    args.features = { ...(args.features as Args | undefined), smm: true };
  }
}
