/**
 * Bad inputs as a user writes them, one stage at a time (`bad:stage`), for the e2e test of what
 * `pulumi preview` prints: `checks` gives a network several problems at once, `volume` makes a
 * small volume and `shrink` then asks for less.
 */
import * as pulumi from "@pulumi/pulumi";
import * as virtwire from "virtwire";

const config = new pulumi.Config("bad");
const stage = config.require("stage");
const subnet = config.require("subnet");
const pool = config.get("pool");
// Resource names start with it, so the test can tell what this program made in libvirt.
const prefix = config.require("prefix");

if (stage === "checks") {
  // As JavaScript or an object spread from a settings file would pass them: no type checking.
  const args: Record<string, unknown> = {
    mode: "isolated",
    autostrat: true,
    addresses: [
      {
        address: `${subnet}.1`,
        prefix: 24,
        dhcp: {
          ranges: [
            { start: `${subnet}.100`, end: `${subnet}.199` },
            { start: `${subnet}.300`, end: `${subnet}.310` },
          ],
          hosts: [{ ip: `${subnet}.5` }],
        },
      },
    ],
    dnsHosts: [{ ip: "10.93.12.300", hostnames: ["web"] }],
  };
  new virtwire.Network(`${prefix}-lan`, args as virtwire.NetworkArgs);
}

if (stage === "volume" || stage === "shrink") {
  new virtwire.Volume(`${prefix}-data`, {
    pool: pool!,
    capacity: stage === "volume" ? "2MiB" : "1MiB",
  });
}
