// The NwFilter resource through the real dynamic-provider plugin, against the test bed daemon:
// rules of every protocol of virtwire's subset read back with no diff, changes applied in place,
// refusals at check, a name taken by somebody else's filter, get(), and undefine refused while a
// running guest's NIC uses the filter.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Libvirt, RemoteNonnullNetwork, formatUuid, parseUuid } from "../../rpc";
import { guestDomainXml } from "../support/guest";
import { PropertyMap, reveal } from "../support/pulumi-wire";
import { connectTestbed, isolatedNetworkXml, randomSubnet, uniqueName } from "../support/testbed";
import { VirtwireEngine, resourceInputs, virtwireType } from "../support/virtwire-engine";

let virtwire: VirtwireEngine;
let lv: Libvirt;

beforeAll(async () => {
  [virtwire, lv] = await Promise.all([VirtwireEngine.start(), connectTestbed()]);
});

beforeEach(() => virtwire.reset());

afterEach(async () => {
  await virtwire.engine.destroy().catch(() => undefined);
});

afterAll(async () => {
  await virtwire?.close();
  await lv?.close();
});

const props = (value: Record<string, unknown>) => value as PropertyMap;

/** Rules of each protocol of the subset, spelt as users write them (a MAC in capitals). */
const RULES: PropertyMap[] = [
  {
    action: "accept",
    direction: "out",
    protocol: "mac",
    match: { srcmacaddr: "52:54:00:AB:CD:EF", protocolid: "ipv4" },
  },
  {
    action: "accept",
    direction: "inout",
    protocol: "arp",
    match: { opcode: "Request", arpsrcipaddr: "10.9.0.5" },
  },
  {
    action: "drop",
    direction: "in",
    priority: 300,
    protocol: "ip",
    match: { srcipaddr: "10.9.0.0", srcipmask: 24, protocol: "tcp", dstportstart: 22 },
  },
  {
    action: "accept",
    direction: "in",
    protocol: "ipv6",
    match: { dstipaddr: "fd00::5", dstipmask: 64 },
  },
  {
    action: "accept",
    direction: "in",
    protocol: "tcp",
    match: { dstportstart: 80, dstportend: 443, state: "NEW,ESTABLISHED" },
  },
  {
    action: "reject",
    direction: "out",
    protocol: "udp",
    match: { dstipaddr: "$DNS", dstportstart: 53 },
  },
  {
    action: "accept",
    direction: "inout",
    protocol: "icmp",
    match: { type: 8, code: 0, comment: "ping" },
  },
  { action: "drop", direction: "inout", priority: 1000, protocol: "all" },
];

const filterXml = async (id: string) => {
  const { nwfilter } = await lv.NWFilterLookupByUUID({ uuid: parseUuid(id) });
  return (await lv.NWFilterGetXMLDesc({ nwfilter, flags: 0 })).xml;
};

describe("an NwFilter", () => {
  it("is defined with rules of every protocol and a reference, and shows no change after a refresh", async () => {
    const base = await virtwire.up(
      "NwFilter",
      "base",
      props({
        chain: "ipv4",
        rules: [RULES[2]!],
      }),
    );
    const args = props({
      rules: RULES,
      filterRefs: [{ filter: base.outputs.name, parameters: { DNS: "10.9.0.1" } }],
    });
    const created = await virtwire.up("NwFilter", "web", args);
    expect(created.step).toBe("create");
    expect(created.outputs.name).toMatch(/^web-[0-9a-f]{7}$/);
    expect(created.outputs).toMatchObject({ uuid: created.id, rules: RULES });
    const xml = await filterXml(created.id);
    expect(xml).toContain(`<filterref filter='${base.outputs.name}'>`);
    expect(xml).toContain("dstportstart='80' dstportend='443'");
    expect(await virtwire.refresh("web")).toBe("same");
    expect((await virtwire.up("NwFilter", "web", args)).step).toBe("same");
  });

  it("changes its rules, chain and priority in place: the same filter, libvirt's XML redefined", async () => {
    const created = await virtwire.up("NwFilter", "web", props({ rules: [RULES[4]!] }));
    const changed = props({
      chain: "ipv4-web",
      priority: -650,
      rules: [RULES[5]!, RULES[6]!],
    });
    const updated = await virtwire.up("NwFilter", "web", changed);
    expect(updated).toMatchObject({ step: "update", id: created.id });
    const xml = await filterXml(created.id);
    expect(xml).toMatch(/chain='ipv4-web' priority='-650'/);
    expect(xml).toContain("<icmp type='8' code='0' comment='ping'/>");
    expect(xml).not.toContain("dstportend='443'");
    expect((await virtwire.up("NwFilter", "web", changed)).step).toBe("same");
  });

  it("is refused at check when a rule has an attribute its protocol does not take, naming the fix", async () => {
    const args = {
      rules: [
        { action: "accept", direction: "in", protocol: "tcp", match: { protocolid: "ipv4" } },
      ],
    };
    const error = await virtwire.up("NwFilter", "web", args).catch((e: Error) => e);
    expect(String(error)).toMatch(/rules\[0\]\.match\.protocolid.*a tcp rule has no protocolid/s);
  });

  it("does not take a name that a filter virtwire did not make has: nothing is changed", async () => {
    const name = uniqueName("nwfilter");
    const xml = `<filter name='${name}' chain='root'><rule action='accept' direction='in'><all/></rule></filter>`;
    const { nwfilter } = await lv.NWFilterDefineXML({ xml });
    try {
      const error = await virtwire
        .up("NwFilter", "web", props({ name, rules: [RULES[7]!] }))
        .catch((e: Error) => e);
      expect(String(error)).toMatch(new RegExp(`network filter named ${name} already exists`));
      expect(await filterXml(formatUuid(nwfilter.uuid))).toContain("<all/>");
    } finally {
      await lv.NWFilterUndefine({ nwfilter });
    }
  });

  it("is read whole by get(), by name and by UUID", async () => {
    const created = await virtwire.up("NwFilter", "web", props({ rules: [RULES[4]!] }));
    for (const id of [created.outputs.name as string, created.id]) {
      const props = resourceInputs("NwFilter", "got", {}, virtwire.urn("NwFilter", "got"));
      const got = await virtwire.engine.get(virtwireType("NwFilter"), "got", id, props);
      expect(got.id).toBe(created.id);
      expect(reveal(got.outputs)).toMatchObject({
        name: created.outputs.name,
        chain: "root",
        rules: [{ ...RULES[4], priority: 500 }],
      });
    }
  });

  it("is not undefined while a running guest's NIC uses it: the error names the fix", async () => {
    const dir = await mkdtemp(join(tmpdir(), "vwtest-nwfilter-"));
    let network: RemoteNonnullNetwork | undefined;
    const domainName = uniqueName("nwfilter");
    try {
      const created = await virtwire.up("NwFilter", "web", props({ rules: [RULES[6]!] }));
      const networkName = uniqueName("nwfilter");
      network = (
        await lv.NetworkCreateXML({ xml: isolatedNetworkXml(networkName, randomSubnet()) })
      ).net;
      const nic = `<interface type='network'><source network='${networkName}'/><model type='virtio'/><filterref filter='${created.outputs.name}'/></interface>`;
      await lv.DomainCreateXML({
        xml_desc: guestDomainXml(domainName, { serialLog: join(dir, "serial.log"), devices: nic }),
        flags: 0,
      });
      const error = await virtwire.destroy("web").catch((e: Error) => e);
      expect(String(error)).toMatch(
        /is in use by a running guest's NIC.*remove the filter from the domains' interfaces/s,
      );
      await expect(filterXml(created.id)).resolves.toContain("icmp");
    } finally {
      const { dom } = await lv
        .DomainLookupByName({ name: domainName })
        .catch(() => ({ dom: undefined }));
      if (dom) await lv.DomainDestroy({ dom }).catch(() => undefined);
      if (network) await lv.NetworkDestroy({ net: network }).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
