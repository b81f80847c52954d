// Bad inputs only the host or this machine can tell, previewed through the real plugin against the
// test bed: a subnet or bridge another network of libvirt's has, an upload file that is missing or
// unusable (a directory, a named pipe, a device, compressed), a stack config that cannot reach
// libvirt; and a change diff refuses. Each is refused at preview with one clean line per problem;
// what only became wrong after a resource was made (its upload file deleted since) does not block
// it, nor does a network's own subnet on a replacement.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Libvirt, RemoteNonnullNetwork, RemoteNonnullStoragePool } from "../../rpc";
import type { Inventory } from "../e2e/libvirt-inventory";
import { BadInput, noise, ownInventory, refusal } from "../support/bad-inputs";
import type { PropertyMap } from "../support/pulumi-wire";
import { generateSshKeyPair } from "../support/ssh-keys";
import {
  connectTestbed,
  dirPoolXml,
  randomSubnet,
  removePool,
  uniqueName,
} from "../support/testbed";
import { VirtwireEngine } from "../support/virtwire-engine";

const run = uniqueName("bad");
const subnet = randomSubnet();
const bridge = `vwb${run.slice(-6)}`;
let virtwire: VirtwireEngine;
let lv: Libvirt;
let before: Inventory;
let dir: string;
let pool: RemoteNonnullStoragePool;
let taken: RemoteNonnullNetwork;

beforeAll(async () => {
  lv = await connectTestbed();
  before = await ownInventory(lv, run);
  virtwire = await VirtwireEngine.start();
  dir = await mkdtemp(join(tmpdir(), `${run}-`));
  ({ pool } = await lv.StoragePoolCreateXML({ xml: dirPoolXml(`${run}-pool`, dir), flags: 0 }));
  // Another stack's network, running, on <subnet>.0/24 with its own bridge.
  ({ net: taken } = await lv.NetworkCreateXML({
    xml: `<network><name>${run}-taken</name><bridge name='${bridge}'/><ip address='${subnet}.1' prefix='24'/></network>`,
  }));
  await writeFile(join(dir, "disk.img.gz"), Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]));
  await writeFile(join(dir, "empty.img"), "");
  await writeFile(join(dir, "raw.img"), Buffer.alloc(4096));
  await writeFile(join(dir, "big.qcow2"), qcow2Header(2 ** 30));
  await mkdir(join(dir, "images"));
  // A named pipe no one writes to: opening it to read would wait for a writer.
  await mkdir(join(dir, "special"));
  execFileSync("mkfifo", [join(dir, "special", "pipe.img")]);
});

afterAll(async () => {
  await virtwire?.close();
  await lv?.NetworkDestroy({ net: taken }).catch(() => undefined);
  if (pool) await removePool(lv, pool).catch(() => undefined);
  await lv?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A qcow2 v3 header without a backing file, for an image of `size` bytes. */
function qcow2Header(size: number): Buffer {
  const header = Buffer.alloc(104);
  Buffer.from([0x51, 0x46, 0x49, 0xfb]).copy(header, 0);
  header.writeUInt32BE(3, 4);
  header.writeUInt32BE(16, 20);
  header.writeBigUInt64BE(BigInt(size), 24);
  return header;
}

const volume = (source: string, extra: Record<string, unknown> = {}): PropertyMap => ({
  pool: `${run}-pool`,
  source: { path: join(dir, source) },
  ...extra,
});

const cases = (): BadInput[] => [
  {
    what: "a subnet a running network has",
    kind: "Network",
    args: { mode: "isolated", addresses: [{ address: `${subnet}.1`, prefix: 24 }] },
    problems: [
      new RegExp(
        `^addresses\\[0\\] ${subnet}\\.1/24 overlaps libvirt's running network "${run}-taken" \\(${subnet}\\.0/24 on bridge ${bridge}\\): choose a subnet no other network uses`,
      ),
    ],
  },
  {
    what: "a wider subnet holding a running network's",
    kind: "Network",
    args: {
      mode: "isolated",
      addresses: [{ address: `${subnet.split(".").slice(0, 2).join(".")}.0.1`, prefix: 16 }],
    },
    problems: [
      new RegExp(`^addresses\\[0\\] .*/16 overlaps libvirt's running network "${run}-taken"`),
    ],
  },
  {
    what: "a bridge another network has",
    kind: "Network",
    args: { mode: "isolated", bridge: { name: bridge } },
    problems: [
      new RegExp(
        `^bridge\\.name ${bridge} is already the bridge of libvirt's network "${run}-taken"`,
      ),
    ],
  },
  {
    what: "a directory another pool has",
    kind: "Pool",
    args: { type: "dir", targetPath: `${dir}/` },
    problems: [
      new RegExp(
        `^targetPath ${dir}/ is already the target of libvirt's storage pool "${run}-pool": give this pool a directory of its own`,
      ),
    ],
  },
  {
    what: "a source file that does not exist",
    kind: "Volume",
    args: volume("missing.img"),
    problems: [
      /^source\.path \/.*\/missing\.img does not exist on this machine: give the path of the image file/,
    ],
  },
  {
    what: "a source that is a directory",
    kind: "Volume",
    args: volume("images"),
    problems: [/^source\.path \/.*\/images is a directory: give the image file in it/],
  },
  {
    what: "a source that is a named pipe",
    kind: "Volume",
    args: volume("special/pipe.img"),
    problems: [
      /^source\.path \/.*\/special\/pipe\.img is a named pipe \(FIFO\), not a regular file: give the path of an image file/,
    ],
  },
  {
    what: "a source that is a character device",
    kind: "Volume",
    args: { pool: `${run}-pool`, source: { path: "/dev/zero" } },
    problems: [
      /^source\.path \/dev\/zero is a character device, not a regular file: give the path of an image file/,
    ],
  },
  {
    what: "an empty source file",
    kind: "Volume",
    args: volume("empty.img"),
    problems: [/^source: \/.*\/empty\.img is empty/],
  },
  {
    what: "a compressed source file",
    kind: "Volume",
    args: volume("disk.img.gz"),
    problems: [
      /^source: cannot upload \/.*\/disk\.img\.gz: it is gzip-compressed, which a guest cannot boot as it is: gunzip it first/,
    ],
  },
  {
    what: "a raw file declared qcow2",
    kind: "Volume",
    args: volume("raw.img", { format: "qcow2" }),
    problems: [
      /^format: \/.*\/raw\.img is raw content \(not qcow2\), but format is "qcow2": .* set format to "raw" or leave it out/,
    ],
  },
  {
    what: "a capacity under the image's size",
    kind: "Volume",
    args: volume("big.qcow2", { capacity: "1MiB" }),
    problems: [
      /^capacity 1 MiB is smaller than the image's 1 GiB \(1073741824 bytes\): leave capacity out, or set at least that/,
    ],
  },
];

describe("a bad input only the host or this machine can tell", () => {
  it("is refused at preview, each with one clean line", async () => {
    for (const [index, { what, kind, args, problems }] of cases().entries()) {
      const name = `${run}-${index}`;
      const { lines, reasons } = await refusal(virtwire.engine, kind, name, args);
      expect({ what, reasons }).toEqual({
        what,
        reasons: problems.map((p) => expect.stringMatching(p)),
      });
      expect(lines.filter(noise)).toEqual([]);
    }
  });

  it("is a changed source of an existing volume, but a deleted unchanged one is not", async () => {
    const file = join(dir, "upload.img");
    await writeFile(file, Buffer.alloc(1024 * 1024, 1));
    const args = volume("upload.img");
    expect((await virtwire.up("Volume", `${run}-up`, args)).step).toBe("create");
    await rm(file);
    // Unchanged: the file is not looked for again.
    expect(
      (
        await virtwire.engine.preview("pulumi-nodejs:dynamic/virtwire:Volume", `${run}-up`, {
          __kind: "Volume",
          __logicalName: `${run}-up`,
          ...args,
        })
      ).step,
    ).toBe("same");
    const moved = await refusal(virtwire.engine, "Volume", `${run}-up`, volume("moved.img"));
    expect(moved.reasons).toEqual([
      expect.stringMatching(/^source\.path \/.*\/moved\.img does not exist on this machine/),
    ]);
  });

  it("is a shrink, refused by diff in one line", async () => {
    const args = { pool: `${run}-pool`, capacity: "2MiB" };
    await virtwire.up("Volume", `${run}-shrink`, args);
    const { lines } = await refusal(virtwire.engine, "Volume", `${run}-shrink`, {
      ...args,
      capacity: "1MiB",
    });
    expect(lines).toEqual([
      expect.stringMatching(
        /Planning the change of volume .* failed: capacity 1 MiB \(1048576 bytes\) is smaller than the volume's current 2 MiB/,
      ),
    ]);
    expect(lines.filter(noise)).toEqual([]);
  });

  it("is not a network's own subnet when a new prefix replaces it", async () => {
    const other = randomSubnet();
    const lan = (prefix: number) => ({
      mode: "isolated",
      addresses: [{ address: `${other}.1`, prefix }],
    });
    expect((await virtwire.up("Network", `${run}-lan`, lan(24))).step).toBe("create");
    expect((await virtwire.up("Network", `${run}-lan`, lan(24))).step).toBe("same");
    expect((await virtwire.up("Network", `${run}-lan`, lan(25))).step).toBe("replace");
  });

  it("leaves nothing in libvirt once destroyed, and no stack trace in the plugin's output", async () => {
    await virtwire.engine.destroy();
    await lv.NetworkDestroy({ net: taken });
    await removePool(lv, pool);
    expect(await ownInventory(lv, run)).toEqual(before);
    expect(virtwire.logs.filter((line) => /^\s+at /.test(line))).toEqual([]);
  });
});

describe("a stack config that cannot reach libvirt", () => {
  const refusedWith = async (
    config: Record<string, string>,
    args: PropertyMap,
    problem: RegExp,
  ) => {
    const engine = await VirtwireEngine.start({ config });
    try {
      const { lines, reasons } = await refusal(engine.engine, "Pool", `${run}-cfg`, args);
      expect(reasons).toEqual([expect.stringMatching(problem)]);
      expect(lines.filter(noise)).toEqual([]);
      expect(engine.logs.filter((line) => /^\s+at /.test(line))).toEqual([]);
    } finally {
      await engine.close();
    }
  };
  const pool = { type: "dir", targetPath: `/var/lib/libvirt/images/${run}` };

  it("is refused at preview: a socket that is not there", async () => {
    await refusedWith(
      { "virtwire:uri": `qemu:///system?socket=${tmpdir()}/${run}.sock` },
      pool,
      /^Connecting to libvirt failed: cannot connect to the libvirt socket .*\.sock: no daemon is listening there \(ENOENT\).* \(check virtwire:uri\)$/,
    );
  });

  it("is refused at preview: a URI that is not one", async () => {
    await refusedWith({ "virtwire:uri": "kvm1" }, pool, /^virtwire:uri is not a libvirt URI: /);
  });

  it("is refused at preview: SSH keys for a TLS host", async () => {
    // A key made now: nothing secret-looking is committed, and the check sees a real key.
    const key = generateSshKeyPair().private;
    await refusedWith(
      {
        "virtwire:hosts": JSON.stringify({
          kvm2: { uri: "qemu+tls://kvm2/system", sshPrivateKey: key },
        }),
      },
      { ...pool, host: "kvm2" },
      /^virtwire:hosts\.kvm2\.sshPrivateKey is set, but virtwire:hosts\.kvm2\.uri uses the tls transport, not ssh: remove it or fix the URI/,
    );
  });

  it("is refused at preview: a misspelt setting", async () => {
    await refusedWith(
      { "virtwire:hsots": "{}" },
      pool,
      /^virtwire:hsots is not a virtwire setting \(did you mean "hosts"\?\)/,
    );
  });
});
