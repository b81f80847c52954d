/**
 * A Domain whose interface could only wait in vain for its address (waitForAddresses with DHCP
 * leases as the only source, on a network without DHCP), through the real plugin against the test
 * bed: refused at preview when the network exists and is not its own stack's, else warned about at
 * preview and refused before the domain starts; never after the whole timeout.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, Libvirt } from "../../rpc";
import type { DomainInputs } from "../../resources/kit/generated/types";
import type { Engine } from "../support/engine";
import { GUEST_CMDLINE, GUEST_INITRD, GUEST_KERNEL } from "../support/guest";
import type { PropertyMap } from "../support/pulumi-wire";
import { connectTestbed, isolatedNetworkXml, randomSubnet, uniqueName } from "../support/testbed";
import { VirtwireEngine, resourceInputs, virtwireType } from "../support/virtwire-engine";

const DOMAIN = virtwireType("Domain");

let virtwire: VirtwireEngine;
let lv: Libvirt;
let engine: Engine;
let scratch: string;

beforeAll(async () => {
  [virtwire, lv] = await Promise.all([VirtwireEngine.start(), connectTestbed()]);
  engine = virtwire.engine;
  scratch = await mkdtemp(join(tmpdir(), "vwtest-nodhcp-"));
});

afterAll(async () => {
  await virtwire?.close();
  await rm(scratch, { recursive: true, force: true });
  await lv?.close();
});

const guest = (extra: Partial<DomainInputs>): DomainInputs => ({
  type: "qemu",
  memory: "128MiB",
  kernel: GUEST_KERNEL,
  initrd: GUEST_INITRD,
  cmdline: GUEST_CMDLINE,
  console: { type: "file", path: join(scratch, "serial.log") },
  shutdownTimeout: 5,
  ...extra,
});

/** `pulumi up` of the domain "vm", without a URN (as the plugin tests' other resources). */
const up = (args: DomainInputs) =>
  engine.up(DOMAIN, "vm", resourceInputs("Domain", "vm", args as PropertyMap));

it("is refused at preview when waitForAddresses can only wait in vain on a network without DHCP", async () => {
  const name = uniqueName("nodhcp");
  const bare = uniqueName("nodhcp");
  await lv.NetworkCreateXML({
    xml: isolatedNetworkXml(bare, randomSubnet(), { dhcp: false }),
  });
  try {
    const started = Date.now();
    const error = await up(
      guest({
        name,
        networkInterfaces: [{ network: bare }],
        waitForAddresses: { timeout: 60, source: "lease" },
      }),
    ).catch((e: Error) => e);
    expect(String(error)).toContain(
      `has a problem: networkInterfaces[0].network: network ${bare} has no DHCP server (no <dhcp> range), so no lease can appear: give the network a DHCP range, or use the guest agent`,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect(lv.DomainLookupByName({ name })).rejects.toMatchObject({
      code: ErrorCode.NO_DOMAIN,
    });
  } finally {
    await lv.NetworkDestroy(await lv.NetworkLookupByName({ name: bare }));
  }
});

it("warns at preview, and fails before starting, on a network of its own stack without DHCP", async () => {
  // The stack's own network might get DHCP in the same `pulumi up`: only a warning at preview.
  const NETWORK = virtwireType("Network");
  const bare = uniqueName("nodhcp");
  const address = { address: `${randomSubnet()}.1`, prefix: 24 };
  const networkArgs = { name: bare, addresses: [address] };
  await engine.up(
    NETWORK,
    "bare",
    resourceInputs("Network", "bare", networkArgs, engine.urn(NETWORK, "bare")),
  );
  try {
    const name = uniqueName("nodhcp");
    const args = guest({
      name,
      networkInterfaces: [{ network: bare }],
      waitForAddresses: { timeout: 60, source: "lease" },
    }) as PropertyMap;
    const printed = virtwire.plugin.mark();
    const started = Date.now();
    const error = await engine
      .up(DOMAIN, "own", resourceInputs("Domain", "own", args, engine.urn(DOMAIN, "own")))
      .catch((e: Error) => e);
    expect(printed()).toContain(
      `warning: virtwire: domain ${name}: networkInterfaces[0].network: network ${bare} has no DHCP server`,
    );
    expect(String(error)).toMatch(
      new RegExp(
        `Creating domain ${name} failed: no IP address can come \\(waitForAddresses.source lease\\), so the domain was not started to wait for one: interface 52:54:00:[0-9a-f:]+: network ${bare} has no DHCP server`,
      ),
    );
    expect(Date.now() - started).toBeLessThan(20_000);
    await expect(lv.DomainLookupByName({ name })).rejects.toMatchObject({
      code: ErrorCode.NO_DOMAIN,
    });
  } finally {
    await engine.destroy([engine.urn(NETWORK, "bare")]);
  }
});
