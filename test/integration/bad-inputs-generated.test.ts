// Inputs the property-based test (generated-inputs.test.ts) found check() accepting and libvirt
// refusing at `up`, each as the generator made it (with the seed that made it): now refused at
// preview with one line naming the property and the fix, and nothing appears in libvirt.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BadInput, describeBadInputs, refusal } from "../support/bad-inputs";
import { connectTestbed, dirPoolXml, removePool, uniqueName } from "../support/testbed";

const run = uniqueName("badgen");

const pool = (args: Record<string, unknown>): BadInput["args"] => ({
  type: "dir",
  targetPath: `/tmp/${run}/Sx=mU}t`,
  ...args,
});

const cases: BadInput[] = [
  {
    // seed 81885205, Pool case 2: libvirt's "malformed octal mode"
    what: "a pool mode with more than the permission bits",
    kind: "Pool",
    args: pool({ permissions: { mode: "01100" } }),
    problems: [
      /^permissions\.mode "01100" is not valid: use octal permission bits from 000 to 777,/,
    ],
  },
  {
    // seed 81885205, Pool case 3: libvirt's "malformed owner element"
    what: "a pool owner that is no user id",
    kind: "Pool",
    args: pool({ permissions: { mode: "0566", owner: 9007199254740988 } }),
    problems: [/^permissions\.owner must be at most 4294967294; got 9007199254740988/],
  },
  {
    // seed 81885205, Pool case 5: libvirt drops the source of a dir pool, so the next up replaced it
    what: "a source on a dir pool",
    kind: "Pool",
    args: pool({ permissions: { group: 0 }, source: { dir: "'b1xl", devices: [] } }),
    problems: [
      /^source\.dir: a dir pool has no source \(its volumes are files in targetPath\): remove source/,
    ],
  },
  {
    // seed 81885205, Network case 0: libvirt's "nat forwarding requested, but no IP address
    // provided" (nat is the default mode)
    what: "a nat network without an address",
    kind: "Network",
    args: { domain: "6FzCtNPC.D.x.X8.WLCL", autostart: false },
    problems: [/^addresses: a nat network needs the host's address on it/],
  },
  {
    // seed 81885205, Network case 2
    what: "an open network without an address",
    kind: "Network",
    args: {
      mode: "open",
      bridge: { name: "vwp308672e2" },
      addresses: [],
      dnsHosts: [{ ip: "10.172.169.7", hostnames: ["q中", "Vik2"] }],
      mtu: 65534,
    },
    problems: [/^addresses: an open network needs the host's address on it/],
  },
  {
    // seed 1489712133, Network case 2: libvirt's "mtu size only allowed in open, route, nat, and
    // isolated mode, not in bridge"
    what: "an MTU on a bridge-mode network",
    kind: "Network",
    args: {
      mode: "bridge",
      forwardDevice: "",
      addresses: [],
      mtu: 65532,
      bridge: { name: "virbr0" },
    },
    problems: [
      /^mtu: a bridge-mode network joins the host bridge virbr0 as it is; set the MTU/,
      /^forwardDevice "" is not 1 to 15 bytes long/,
    ],
  },
  {
    // seed 713360435, Domain case 4: libvirt's "readonly sata disks are not supported" at up
    what: "a read-only sata disk",
    kind: "Domain",
    args: {
      type: "qemu",
      memory: "128MiB",
      disks: [
        { file: "/var/lib/libvirt/images/a.img", bus: "virtio", readOnly: true, format: "raw" },
        { file: "/var/lib/libvirt/images/a.img", bus: "sata", readOnly: true, format: "raw" },
      ],
    },
    problems: [/^disks\[1\]\.readOnly: QEMU has no read-only sata disks; use bus virtio or scsi/],
  },
  {
    // seed 1237546666, Domain case 11: "/" failed libvirt's domain schema at up
    what: "a cloud-init disk path that is no file",
    kind: "Domain",
    args: {
      type: "qemu",
      memory: "0.0625GiB",
      machine: "q35",
      cloudInitDisk: { path: "/" },
      running: false,
    },
    problems: [/^cloudInitDisk\.path "\/" is not valid: use the absolute path of a file/],
  },
  {
    // seed 1237546666, Domain case 13: QEMU's 'Failed to get "write" lock' at up
    what: "one image on two writable disks",
    kind: "Domain",
    args: {
      type: "qemu",
      memory: "64 M",
      disks: [
        { file: "/var/lib/libvirt/images/base.qcow2", format: "qcow2" },
        { file: "/var/lib/libvirt/images/base.qcow2" },
        { device: "cdrom", bus: "ide", format: "qcow2" },
      ],
    },
    problems: [
      /^disks\[1\] uses the image of disks\[0\] too, and QEMU locks an image a disk writes/,
    ],
  },
  {
    // seed 1237546666, Network case 5: "Failed to add IP address fd04:29aa:7730::1/64" at up
    what: "an MTU below 1280 with an IPv6 address",
    kind: "Network",
    args: {
      bridge: { name: "vwpd82cbc61", stp: false },
      domain: "ON3CN.ui.9.9WKW-b.UC",
      addresses: [{ address: "fd04:29aa:7730::1", prefix: 64, dhcp: {} }],
      mtu: 71,
    },
    problems: [/^mtu 71 is below 1280, the least IPv6 needs, and addresses\[0\] is IPv6/],
  },
  {
    // seed 1886195852, Domain case 8: libvirt's schema refused the listen address at up
    what: "a display listening on no address",
    kind: "Domain",
    args: {
      type: "qemu",
      memory: "96MiB",
      graphics: { type: "spice", listen: "(" },
      running: false,
    },
    problems: [/^graphics\.listen "\(" is not an IP address or host name: use e\.g\. 127\.0\.0\.1/],
  },
  {
    // seed 1886195852, Network case 9: libvirt dropped the empty name, and every up updated
    what: "an empty DNS host name",
    kind: "Network",
    args: {
      addresses: [{ address: "10.232.44.1", prefix: 24 }],
      dnsHosts: [{ ip: "10.218.50.7", hostnames: [")?,X[9", "", "m;6'"] }],
    },
    problems: [/^dnsHosts\[0\]\.hostnames\[1\] "" is empty: give a host name/],
  },
  {
    // seed 365907875, Domain case 8 (libvirt 11): "IDE controllers are unsupported for this QEMU
    // binary or machine type" at up
    what: "an ide disk on a q35 machine",
    kind: "Domain",
    args: {
      type: "qemu",
      memory: "128MiB",
      machine: "q35",
      disks: [{ file: "/var/lib/libvirt/images/a.img", device: "disk", bus: "ide" }],
    },
    problems: [/^disks\[0\]\.bus ide: machine q35 has no IDE controller; use bus sata/],
  },
  {
    // seed 1850610453, Network case 7: the tab came back as a space, and every up replaced
    what: "a forward device that is no interface name",
    kind: "Network",
    args: {
      mtu: 71,
      addresses: [{ address: "10.212.209.1", prefix: 24 }],
      forwardDevice: "QL(AE_\tΩ8p~.",
    },
    problems: [
      /^forwardDevice "QL\(AE_\\tΩ8p~\." has a blank, '\/' or ':' in it: give the host interface/,
    ],
  },
];

describeBadInputs("an input found by generated inputs", run, cases, (virtwire) => {
  // seed 81885205, Volume case 5: refused at up, after the base volume was looked up
  it("is refused at preview: an overlay smaller than its base volume (Volume)", async () => {
    const lv = await connectTestbed();
    const dir = await mkdtemp(join(tmpdir(), `${run}-`));
    const { pool } = await lv.StoragePoolCreateXML({
      xml: dirPoolXml(`${run}-pool`, dir),
      flags: 0,
    });
    try {
      const xml = `<volume><name>base.qcow2</name><capacity>${8 << 20}</capacity><target><format type='qcow2'/></target></volume>`;
      const { vol } = await lv.StorageVolCreateXML({ pool, xml, flags: 0 });
      const args = {
        pool: pool.name,
        capacity: "65536",
        format: "qcow2",
        baseVolume: { key: vol.key },
      };
      const { reasons } = await refusal(virtwire().engine, "Volume", `${run}-overlay`, args);
      expect(reasons).toEqual([
        "capacity 64 KiB is smaller than the base volume's 8 MiB (8388608 bytes): an overlay is at least as large as its base",
      ]);
      const byName = { ...args, baseVolume: { pool: pool.name, name: "base.qcow2" } };
      expect(
        (await refusal(virtwire().engine, "Volume", `${run}-overlay`, byName)).reasons,
      ).toEqual(reasons);
    } finally {
      await removePool(lv, pool);
      await rm(dir, { recursive: true, force: true });
      await lv.close();
    }
  });
});
