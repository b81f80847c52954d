// Bad inputs to Pools, Volumes and CloudInitDisks as a user writes them (and unknown properties at
// any depth), previewed through the real plugin against the test bed: each is refused at preview
// with one line per problem naming the property path and the fix, with no dump of the value and no
// stack trace, and nothing appears in libvirt.
import { BadInput, describeBadInputs } from "../support/bad-inputs";
import { uniqueName } from "../support/testbed";

const run = uniqueName("bad");

const pool = (args: Record<string, unknown>): BadInput["args"] => ({
  type: "dir",
  targetPath: `/var/lib/libvirt/images/${run}`,
  ...args,
});
const cases: BadInput[] = [
  // Names, types and unknown properties, at any depth.
  {
    what: "a misspelt property (JavaScript)",
    kind: "Pool",
    args: { type: "dir", targetpath: "/srv/x" },
    problems: [
      /^targetPath is required/,
      /^targetpath is not a property of Pool; did you mean "targetPath"\?/,
    ],
  },
  {
    what: "a misspelt nested property",
    kind: "Pool",
    args: pool({ permissions: { mdoe: "0755" } }),
    problems: [/^permissions\.mdoe is not a property of PoolPermissions; did you mean "mode"\?/],
  },
  {
    what: "a misspelt property in a list item",
    kind: "Network",
    args: { addresses: [{ adress: "10.1.0.1", prefix: 24 }] },
    problems: [
      /^addresses\[0\]\.address is required/,
      /^addresses\[0\]\.adress is not a property of NetworkAddress; did you mean "address"\?/,
    ],
  },
  {
    what: "an output given as an input",
    kind: "Network",
    args: { mode: "isolated", uuid: "x" },
    problems: [/^uuid is an output of the Network, set by virtwire, not an input: remove it/],
  },
  {
    what: "a misspelt enum value",
    kind: "Pool",
    args: pool({ type: "dri" }),
    problems: [
      /^type must be one of "dir", "fs", "netfs", "logical", "disk", "iscsi"; got "dri" \(did you mean "dir"\?\)/,
    ],
  },
  {
    what: "a relative target path",
    kind: "Pool",
    args: pool({ targetPath: "images" }),
    problems: [/^targetPath "images" is not valid: use an absolute path/],
  },
  {
    what: "a name libvirt refuses",
    kind: "Pool",
    args: pool({ name: "a/b" }),
    problems: [/^name "a\/b" is not valid: use up to 100 letters/],
  },
  {
    what: "a wrong type deep down",
    kind: "Pool",
    args: pool({ permissions: { owner: "root" } }),
    problems: [/^permissions\.owner must be a number; got "root"/],
  },
  {
    what: "a list where an object goes",
    kind: "Pool",
    args: pool({ source: ["nfs"] }),
    problems: [/^source must be an object; got a list of 1$/],
  },
  {
    what: "a netfs pool without its server",
    kind: "Pool",
    args: pool({ type: "netfs" }),
    problems: [/^source: a netfs pool needs source\.host/],
  },
  // Sizes.
  {
    what: "a capacity too large",
    kind: "Volume",
    args: { pool: "default", capacity: "100000PiB" },
    problems: [/^capacity "100000PiB" is more than the largest size virtwire handles, 8 PiB/],
  },
  {
    what: "a capacity that is not a size",
    kind: "Volume",
    args: { pool: "default", capacity: "ten gigs" },
    problems: [/^capacity "ten gigs" is not a size: use a number of bytes/],
  },
  {
    what: "a capacity in part bytes",
    kind: "Volume",
    args: { pool: "default", capacity: "1.0000001KiB" },
    problems: [/^capacity "1\.0000001KiB" is not a whole number of bytes/],
  },
  {
    what: "a negative capacity",
    kind: "Volume",
    args: { pool: "default", capacity: -5 },
    problems: [/^capacity -5 is negative/],
  },
  {
    what: "a zero capacity",
    kind: "Volume",
    args: { pool: "default", capacity: 0 },
    problems: [/^capacity must be more than 0 bytes/],
  },
  // Volume sources.
  {
    what: "an empty volume without capacity",
    kind: "Volume",
    args: { pool: "default" },
    problems: [/^capacity is required for an empty volume/],
  },
  {
    what: "a source with path and url",
    kind: "Volume",
    args: { pool: "default", source: { path: "/a.img", url: "https://example.org/a.img" } },
    problems: [/^source takes a path or a url, not both/],
  },
  {
    what: "an ftp source url",
    kind: "Volume",
    args: { pool: "default", source: { url: "ftp://example.org/a.img" } },
    problems: [
      /^source\.url "ftp:\/\/example\.org\/a\.img" is not valid: use an http:\/\/ or https:\/\/ URL/,
    ],
  },
  {
    what: "a sha256 that is not one",
    kind: "Volume",
    args: { pool: "default", source: { url: "https://example.org/a.img", sha256: "abc" } },
    problems: [/^source\.sha256 "abc" is not valid: use the 64 hexadecimal digits/],
  },
  {
    what: "an upload that is also an overlay",
    kind: "Volume",
    args: {
      pool: "default",
      source: { url: "https://example.org/a.img" },
      baseVolume: { key: "/x.qcow2" },
    },
    problems: [/^baseVolume: a volume is either uploaded \(source\) or an overlay/],
  },
  {
    what: "a raw overlay",
    kind: "Volume",
    args: { pool: "default", baseVolume: { key: "/x.qcow2" }, format: "raw" },
    problems: [/^format: an overlay on a base volume is a qcow2 image/],
  },
  {
    what: "a misspelt source property",
    kind: "Volume",
    args: { pool: "default", source: { pth: "/a.img" } },
    problems: [
      /^source\.pth is not a property of VolumeSource; did you mean "path"\?/,
      /^source needs a path \(a file on this machine\) or a url/,
    ],
  },
  // CloudInitDisk.
  {
    what: "a seed without user data",
    kind: "CloudInitDisk",
    args: { pool: "default" },
    problems: [/^userData is required/],
  },
  {
    what: "misspelt user data",
    kind: "CloudInitDisk",
    args: { pool: "default", userdata: "#cloud-config" },
    problems: [
      /^userData is required/,
      /^userdata is not a property of CloudInitDisk; did you mean "userData"\?/,
    ],
  },
  {
    what: "user data cloud-init would ignore",
    kind: "CloudInitDisk",
    args: { pool: "default", userData: "hostname: web\n" },
    problems: [
      /^userData does not start with a line cloud-init acts on, so the guest would ignore it: start it with #cloud-config/,
    ],
  },
  {
    what: "meta-data with an empty instance-id",
    kind: "CloudInitDisk",
    args: { pool: "default", userData: "#cloud-config\n", metaData: "instance-id: ''\n" },
    problems: [/^metaData: cannot build the seed image: meta-data has an empty instance-id/],
  },
  {
    what: "a forward device on an isolated network",
    kind: "Network",
    args: { mode: "isolated", forwardDevice: "eth0" },
    problems: [/^forwardDevice is not used by an isolated network/],
  },
];

describeBadInputs("a bad input", run, cases);
