// Inputs the property-based test (generated-inputs.test.ts) found check() accepting and libvirt
// refusing at `up`, each as the generator made it (with the seed that made it): now refused at
// preview with one line naming the property and the fix, and nothing appears in libvirt.
import { BadInput, describeBadInputs } from "../support/bad-inputs";
import { uniqueName } from "../support/testbed";

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
];

describeBadInputs("an input found by generated inputs", run, cases);
