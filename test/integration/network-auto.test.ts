// Networks with `address: "auto"` against the test bed daemon: creates running at the same moment,
// in three plugins as three stacks would, get subnets of their own, and so do eight creates whose
// looks at the other networks all come before any define (the handlers on eight connections); the
// subnet stays across updates and refreshes, and a `within` it no longer fits replaces the network.
import { randomInt } from "node:crypto";
import { Libvirt, parseUuid } from "../../rpc";
import { networkHandlers } from "../../resources/network/handlers";
import type { NetworkInputs } from "../../resources/kit/generated/types";
import type { PropertyMap } from "../support/pulumi-wire";
import { connectTestbed, isolatedNetworkXml, uniqueName } from "../support/testbed";
import { VirtwireEngine } from "../support/virtwire-engine";

let lv: Libvirt;
const engines: VirtwireEngine[] = [];
const foreign: string[] = [];

// A /21 of its own per run (8 subnets of /24) inside 10.120.0.0/13, which no other test uses.
const third = randomInt(32) * 8;
const prefix = `10.${120 + randomInt(8)}`;
const within = `${prefix}.${third}.0/21`;

const autoNetwork = (extra: Record<string, unknown> = {}): PropertyMap => ({
  mode: "isolated",
  addresses: [{ address: "auto", prefix: 24, within, dhcp: {}, ...extra }],
});

beforeAll(async () => {
  lv = await connectTestbed();
  for (let i = 0; i < 3; i++) engines.push(await VirtwireEngine.start());
});

afterAll(async () => {
  for (const engine of engines) await engine.close();
  for (const name of foreign) {
    const { net } = await lv.NetworkLookupByName({ name });
    await lv.NetworkDestroy({ net }).catch(() => undefined);
    await lv.NetworkUndefine({ net });
  }
  await lv?.close();
});

describe("Networks with an auto address", () => {
  it("six created at once by three plugins get six different subnets and bridges, no subnet another network's", async () => {
    // Another network, defined but not running, holds one of the eight: seven left for six.
    const other = uniqueName("auto-other");
    await lv.NetworkDefineXML({ xml: isolatedNetworkXml(other, `${prefix}.${third + 3}`) });
    foreign.push(other);

    const steps = await Promise.all(
      engines.flatMap((engine) =>
        ["a", "b"].map((name) => engine.up("Network", name, autoNetwork())),
      ),
    );

    const addresses = steps.map((step) => (step.outputs.addresses as PropertyMap[])[0]!);
    const subnets = addresses.map((address) => String(address.address).replace(/\.1$/, ".0/24"));
    expect(new Set(subnets).size).toBe(6);
    expect(subnets).not.toContain(`${prefix}.${third + 3}.0/24`);
    for (const address of addresses) {
      const base = String(address.address).replace(/\.1$/, "");
      expect(Number(base.split(".")[2]) - third).toBeGreaterThanOrEqual(0);
      expect(Number(base.split(".")[2]) - third).toBeLessThan(8);
      expect(address).toEqual({
        address: `${base}.1`,
        prefix: 24,
        dhcp: { ranges: [{ start: `${base}.2`, end: `${base}.254` }], hosts: [] },
      });
    }
    for (const step of steps) {
      const { net } = await lv.NetworkLookupByUUID({ uuid: parseUuid(step.id) });
      expect((await lv.NetworkIsActive({ net })).active).toBe(1);
    }
    expect(new Set(steps.map((step) => step.outputs.bridgeName)).size).toBe(6);
    const retries = engines
      .flatMap((engine) => engine.logs)
      .filter((l) => l.includes("trying again"));
    console.log(
      `six auto networks in ${within}: ${subnets.join(", ")}; tried again ${retries.length} times`,
    );
  });

  it("eight creates at the same moment, on eight connections, fill the eight subnets of within once each, on eight bridges", async () => {
    // The worst timing: every create looks at the networks before any of them defines its own.
    const eight = `${prefix}.${(third + 16) % 256}.0/21`;
    const connections = await Promise.all(Array.from({ length: 8 }, () => connectTestbed()));
    const logs: string[] = [];
    const inputs = () =>
      ({
        name: uniqueName("auto-race"),
        mode: "isolated",
        autostart: false,
        addresses: [{ address: "auto", prefix: 24, within: eight }],
      }) as NetworkInputs;
    const created = await Promise.allSettled(
      connections.map((connection) =>
        networkHandlers.create(inputs(), {
          connect: async () => connection,
          virsh: () => "virsh",
          log: (l) => logs.push(l),
          warn: () => undefined,
          status: () => undefined,
        }),
      ),
    );
    try {
      const made = created.map((result) => {
        if (result.status === "rejected") throw result.reason;
        return result.value.outs;
      });
      expect(new Set(made.map((outs) => outs.addresses![0]!.address)).size).toBe(8);
      // libvirt picks a bridge at define, and two defines at once may pick the same one.
      expect(new Set(made.map((outs) => outs.bridgeName)).size).toBe(8);
      console.log(`eight at once in ${eight}: tried again ${logs.length} times`);
    } finally {
      for (const [index, result] of created.entries()) {
        if (result.status === "fulfilled") {
          await networkHandlers.delete(result.value.id, result.value.outs, {
            connect: async () => connections[index]!,
            virsh: () => "virsh",
            log: () => undefined,
            warn: () => undefined,
            status: () => undefined,
          });
        }
      }
      await Promise.all(connections.map((connection) => connection.close()));
    }
  });

  it("is no change afterwards, for up and refresh, and a fresh subnet when no longer inside within", async () => {
    const [engine] = engines;
    const before = engine!.outputs("a").addresses;
    expect((await engine!.up("Network", "a", autoNetwork())).step).toBe("same");
    expect(await engine!.refresh("a")).toBe("same");
    expect((await engine!.up("Network", "a", autoNetwork())).step).toBe("same");
    expect(engine!.outputs("a").addresses).toEqual(before);

    const elsewhere = `${prefix}.${(third + 8) % 256}.0/22`;
    const moved = await engine!.up("Network", "a", autoNetwork({ within: elsewhere }));
    expect(moved).toMatchObject({ step: "replace", diff: { replaces: ["addresses"] } });
    const address = (moved.outputs.addresses as PropertyMap[])[0]!.address as string;
    expect(Number(address.split(".")[2]) - ((third + 8) % 256)).toBeLessThan(4);
  });

  it("refuses at preview when within has no subnet left", async () => {
    const [engine] = engines;
    // The one /24 of this within is the other network's.
    const args = autoNetwork({ within: `${prefix}.${third + 3}.0/24` });
    const error = String(await engine!.up("Network", "c", args).catch((e: Error) => e));
    expect(error).toContain(
      `addresses[0] auto: every /24 subnet within ${prefix}.${third + 3}.0/24 is taken by libvirt's networks: give a larger within`,
    );
  });
});
