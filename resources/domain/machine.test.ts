import { markIn } from "../kit/owner";
import { parseXml } from "../kit/xml";
import type { DomainInputs, DomainOutputs } from "../kit/generated/types";
import { checkDomain } from "./check";
import { classifyChanges } from "./diff";
import { checkedDomain } from "./normalize";
import { machineOutputs } from "./machine-state";
import { planDomain } from "./plan";
import { buildDomainXml } from "./xml-build";
import { readDomainXml } from "./xml-read";

const owner = { urn: "urn:pulumi:dev::lab::virtwire:index:Domain::m", mark: "", fresh: true };

const machine: DomainInputs = {
  name: "m-1",
  type: "qemu",
  vcpu: 2,
  maxVcpus: 4,
  memory: "256MiB",
  cpu: {
    mode: "custom",
    model: "qemu64",
    fallback: "forbid",
    topology: { sockets: 1, cores: 2, threads: 2 },
    features: [{ name: "x2apic", policy: "disable" }, { name: "pdpe1gb" }],
    numaCells: [
      { cpus: "0-1", memory: "128MiB" },
      { cpus: "2-3", memory: 134217728 },
    ],
  },
  memoryBacking: { source: "memfd", access: "shared", locked: true },
  iothreads: 2,
  sysinfo: {
    system: { manufacturer: "ACME", serial: "ds=nocloud;s=http://10.0.0.1:8000/" },
    bios: { vendor: "ACME BIOS", date: "01/31/2024" },
    oemStrings: ["role=web"],
  },
  clock: {
    offset: "localtime",
    timers: [
      { name: "rtc", tickPolicy: "catchup" },
      { name: "hpet", present: false },
    ],
  },
  features: {
    smm: true,
    hyperv: { relaxed: true, vapic: false, spinlocks: 8191, vendorId: "virtwire" },
  },
  onPoweroff: "destroy",
  onReboot: "restart",
  onCrash: "coredump-destroy",
  title: "web server",
  description: "serves the lab's pages\nsince 2026",
  metadata: {
    namespace: "https://example.com/xmlns/app/1",
    prefix: "app",
    xml: "<app tier='1'><owner>alice &amp; bob</owner></app>",
  },
};

const built = (inputs: DomainInputs) =>
  buildDomainXml({ ...planDomain(checkedDomain(inputs), undefined, new Map()), owner });

describe("the machine-level settings in the domain XML", () => {
  it("are written as libvirt's elements", () => {
    const xml = built(machine);
    expect(xml).toContain(`<title>web server</title>`);
    expect(xml).toContain(`<smbios mode="sysinfo"/>`);
    expect(xml).toContain(`<entry name="serial">ds=nocloud;s=http://10.0.0.1:8000/</entry>`);
    expect(xml).toContain(`<topology sockets="1" cores="2" threads="2"/>`);
    expect(xml).toContain(`<feature policy="require" name="pdpe1gb"/>`);
    expect(xml).toContain(`<cell id="1" cpus="2-3" memory="131072" unit="KiB"/>`);
    expect(xml).toContain(`<spinlocks state="on" retries="8191"/>`);
    expect(xml).toContain(`<vapic state="off"/>`);
    expect(xml).toContain(`<timer name="hpet" present="no"/>`);
    expect(xml).toContain(`<on_crash>coredump-destroy</on_crash>`);
    expect(xml).toMatch(
      /<app:app xmlns:app="https:\/\/example.com\/xmlns\/app\/1" tier="1">\s*<app:owner>alice &amp; bob<\/app:owner>/,
    );
  });

  it("keep virtwire's mark beside the user's metadata element", () => {
    const domain = parseXml(built(machine), "domain");
    expect(markIn(domain)).toBe(owner.urn);
    expect(readDomainXml(built(machine)).metadataElements).toEqual([
      {
        namespace: "https://example.com/xmlns/app/1",
        prefix: "app",
        xml: expect.stringContaining("alice &amp; bob"),
      },
    ]);
  });

  /** The outputs of a read of what the builder wrote, running. */
  const currentOf = (inputs: DomainInputs) => {
    const description = readDomainXml(built(inputs));
    return {
      ...description,
      ...machineOutputs(description, inputs),
      memory: "256MiB",
      running: true,
      autostart: false,
      shutdownTimeout: 60,
      allowRestart: true,
    } as unknown as DomainOutputs;
  };

  it("read back as given, so a second run sees no change", () => {
    const current = currentOf(machine);
    expect(current).toMatchObject({
      cpu: machine.cpu,
      memoryBacking: { source: "memfd", access: "shared", locked: true, hugepages: false },
      iothreads: 2,
      sysinfo: machine.sysinfo,
      clock: machine.clock,
      features: { acpi: true, smm: true, hyperv: machine.features!.hyperv },
      title: "web server",
      description: machine.description,
      metadata: machine.metadata,
    });
    expect(classifyChanges(current, machine).changes).toEqual([]);
  });

  it("take an empty list as libvirt's nothing (found by the generated-inputs test)", () => {
    const inputs: DomainInputs = {
      ...machine,
      sysinfo: { ...machine.sysinfo, oemStrings: [] },
      clock: { timers: [] },
    };
    expect(classifyChanges(currentOf(inputs), inputs).changes).toEqual([]);
  });

  it("classify title, description and metadata as live, the rest as restart", () => {
    const changes = classifyChanges(currentOf(machine), {
      ...machine,
      title: "db server",
      metadata: { ...machine.metadata!, xml: "<app tier='2'/>" },
      clock: { offset: "utc" },
      cpu: { ...machine.cpu!, topology: { sockets: 2, cores: 2 } },
    }).changes.map((c) => `${c.property}: ${c.class}`);
    expect(changes.sort()).toEqual([
      "clock: restart",
      "cpu: restart",
      "metadata: live",
      "title: live",
    ]);
  });
});

describe("the machine-level checks", () => {
  const reasons = (inputs: Partial<DomainInputs>) =>
    checkDomain(checkedDomain({ ...machine, ...inputs })).map((f) => f.reason);

  it("take the example as it is", () => {
    expect(reasons({})).toEqual([]);
  });

  it("name a topology whose product is not the vCPU count, with the fix", () => {
    expect(
      reasons({
        cpu: { mode: "maximum", topology: { sockets: 3, cores: 2 } },
        vcpu: 4,
        maxVcpus: undefined,
      }),
    ).toEqual([
      "cpu.topology: sockets×cores×threads = 3×2×1 = 6 but vcpu is 4: set vcpu to 6, or change the topology so that the product is 4",
    ]);
  });

  it("refuse NUMA cells that overlap, name missing vCPUs or do not add up to the memory", () => {
    const cells = (numaCells: NonNullable<DomainInputs["cpu"]>["numaCells"]) =>
      reasons({ cpu: { mode: "maximum", numaCells } });
    expect(
      cells([
        { cpus: "0-1", memory: "128MiB" },
        { cpus: "1-3", memory: "128MiB" },
      ])[0],
    ).toMatch(/vCPU 1 is in cpu.numaCells\[0\] too/);
    expect(cells([{ cpus: "0-4", memory: "256MiB" }])[0]).toMatch(
      /names vCPU 4, but the domain has vCPUs 0-3/,
    );
    expect(cells([{ cpus: "0-3", memory: "128MiB" }])[0]).toMatch(
      /adds up to 128MiB but memory is 256MiB/,
    );
  });

  it("keep the user's metadata from posing as virtwire's mark", () => {
    const meta = (metadata: Partial<NonNullable<DomainInputs["metadata"]>>) =>
      reasons({ metadata: { ...machine.metadata!, ...metadata } });
    expect(meta({ namespace: "https://virtwire.dev/xmlns/resource/1" })[0]).toMatch(
      /virtwire's own/,
    );
    expect(meta({ prefix: "virtwire" })[0]).toMatch(/virtwire's own/);
    expect(meta({ xml: `<a xmlns:v="https://virtwire.dev/xmlns/resource/1"/>` })[0]).toMatch(
      /virtwire's namespace/,
    );
    expect(meta({ xml: "<a/><b/>" })[0]).toMatch(/exactly one element/);
    expect(meta({ xml: "<a>" })[0]).toMatch(/not well-formed/);
    expect(meta({ xml: "" })[0]).toMatch(/exactly one element/);
    expect(meta({ xml: "app" })[0]).toMatch(/exactly one element/);
  });

  it("refuse a core dump on power-off, and tick policies where they mean nothing", () => {
    expect(reasons({ onPoweroff: "coredump-restart" })[0]).toMatch(/only for onCrash/);
    expect(reasons({ sysinfo: { baseBoard: { asset: " " } } })[0]).toMatch(
      /sysinfo.baseBoard.asset " " is empty, and libvirt drops it/,
    );
    expect(reasons({ cpu: { mode: "maximum", fallback: "forbid" } })[0]).toMatch(
      /only used with cpu.model/,
    );
    expect(reasons({ onReboot: "preserve" })[0]).toMatch(/not supported by QEMU domains/);
    expect(reasons({ onReboot: "destroy", onPoweroff: "restart" })[0]).toMatch(
      /use onPoweroff "destroy"/,
    );
    expect(reasons({ features: { acpi: false }, firmware: "efi" })[0]).toMatch(
      /UEFI .* needs ACPI/,
    );
    expect(
      reasons({ clock: { timers: [{ name: "hpet", present: false, tickPolicy: "delay" }] } })[0],
    ).toMatch(/has no ticks/);
    expect(reasons({ xmlPatches: [{ parent: ".", xml: "<clock offset='utc'/>" }] })[0]).toMatch(
      /adds <clock>, which clock writes too/,
    );
    expect(reasons({ memoryBacking: { hugepageSize: "2MiB" } })[0]).toMatch(
      /needs memoryBacking.hugepages: true/,
    );
  });
});
