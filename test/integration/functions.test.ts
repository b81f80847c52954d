/**
 * The functions (data sources) against the test bed's daemon: as a program outside Pulumi calls
 * them (the SDK's functions with `opts.connection`), and as the plugin invokes them
 * (invokeFunction with the provider's settings and connections). One tiny guest on a network of
 * its own gives the DHCP leases and interface addresses.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { Libvirt, formatUuid } from "../../rpc";
import type { RemoteNonnullDomain, RemoteNonnullNetwork } from "../../rpc";
import { readSettings } from "../../provider/config";
import { ConnectionCache } from "../../provider/connections";
import { invokeFunction } from "../../provider/functions";
import {
  getDomainCapabilities,
  getDomainInterfaceAddresses,
  getNetworkDhcpLeases,
  getNodeDevices,
  getNodeInfo,
} from "../../sdk";
import type { GetNetworkDhcpLeasesResult, GuestInterface } from "../../sdk";
import { guestDomainXml, waitForConsole } from "../support/guest";
import {
  TEST_URI,
  connectTestbed,
  isolatedNetworkXml,
  randomMac,
  randomSubnet,
  uniqueName,
} from "../support/testbed";

/** The test bed's daemon, given as a program outside Pulumi gives it. */
const opts = { connection: { uri: TEST_URI } };

let lv: Libvirt;

beforeAll(async () => {
  lv = await connectTestbed();
});

afterAll(async () => {
  await lv?.close();
});

describe("getNodeInfo", () => {
  it("reports this machine's CPUs, memory and topology, its name and the daemon's versions", async () => {
    const info = await getNodeInfo({}, opts);
    const { hostname } = await lv.ConnectGetHostname();
    expect(info).toMatchObject({
      hostname,
      model: "x86_64",
      arch: "x86_64",
      cpus: cpus().length,
      hypervisor: "QEMU",
      libvirtVersion: expect.stringMatching(/^(9|11)\.\d+\.\d+$/),
      hypervisorVersion: expect.stringMatching(/^\d+\.\d+\.\d+$/),
    });
    expect(info.nodes * info.sockets * info.cores * info.threads).toBe(info.cpus);
    expect(info.memory).toBeGreaterThan(256 * 1024 * 1024);
    expect(info.freeMemory).toBeLessThanOrEqual(info.memory);
  });
});

describe("getNodeDevices", () => {
  it("lists the host's devices from the root down, each with its parent among them", async () => {
    const { devices } = await getNodeDevices({}, opts);
    const names = devices.map((device) => device.name);
    expect(names).toEqual([...names].sort());
    expect(devices.find((device) => device.name === "computer")).toMatchObject({
      capability: "system",
    });
    for (const device of devices.filter((device) => device.name !== "computer")) {
      expect(names).toContain(device.parent);
    }
  });

  it("lists only PCI devices when asked for the pci capability, each with its address", async () => {
    const { devices } = await getNodeDevices({ capability: "pci" }, opts);
    expect(devices.length).toBeGreaterThan(0);
    for (const device of devices) {
      expect(device.capability).toBe("pci");
      const { domain, bus, slot, function: fn } = device.pci!;
      const hex = (value: number) => value.toString(16).padStart(2, "0");
      expect(device.name).toBe(
        `pci_${domain.toString(16).padStart(4, "0")}_${hex(bus)}_${hex(slot)}_${fn}`,
      );
      expect(device.pci!.vendorId).toMatch(/^0x[0-9a-f]{4}$/);
    }
  });

  it("finds the loopback interface among the network interfaces", async () => {
    const { devices } = await getNodeDevices({ capability: "net" }, opts);
    expect(devices.map((device) => device.net?.interface)).toContain("lo");
  });

  it("refuses a capability libvirt does not have, naming those it has", async () => {
    await expect(getNodeDevices({ capability: "pcie" }, opts)).rejects.toThrow(
      'getNodeDevices cannot be called with these arguments: capability "pcie" is not valid: give one of libvirt\'s capability types: system, pci,',
    );
  });
});

describe("getDomainCapabilities", () => {
  it("describes a q35 TCG domain: machine types, UEFI with Secure Boot, CPU modes, buses", async () => {
    const caps = await getDomainCapabilities({ virtType: "qemu", machine: "q35" }, opts);
    expect(caps).toMatchObject({
      emulator: "/usr/bin/qemu-system-x86_64",
      virtType: "qemu",
      machine: expect.stringMatching(/^pc-q35-/),
      arch: "x86_64",
      firmware: ["efi"],
      loader: { supported: true, secureBoot: true },
      diskBuses: expect.arrayContaining(["virtio", "sata", "scsi"]),
      videoModels: expect.arrayContaining(["virtio", "vga"]),
    });
    expect(caps.machineTypes).toEqual(expect.arrayContaining(["q35", "pc", caps.machine]));
    expect(caps.loader.paths).toContain("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd");
    expect(caps.cpuModes.map((mode) => mode.name)).toEqual(
      expect.arrayContaining(["host-passthrough", "host-model", "custom"]),
    );
    expect(caps.cpuModels).toContain("qemu64");
    expect(caps.xml).toMatch(/^<domainCapabilities>/);
  });

  it("passes on libvirt's refusal of a virt type the host lacks, with its code", async () => {
    await expect(getDomainCapabilities({ virtType: "xen" }, opts)).rejects.toThrow(
      /^Calling getDomainCapabilities failed: .*\(VIR_ERR_[A-Z_]+, VIR_FROM_[A-Z_]+\)$/,
    );
  });
});

describe("a domain's interface addresses and a network's DHCP leases", () => {
  let net: RemoteNonnullNetwork;
  let dom: RemoteNonnullDomain;
  let dir: string;
  const mac = randomMac();
  let ip: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(join(tmpdir(), "vwtest-functions-"));
    ({ net } = await lv.NetworkCreateXML({
      xml: isolatedNetworkXml(uniqueName("fnnet"), randomSubnet()),
    }));
    const serialLog = join(dir, "console.log");
    ({ dom } = await lv.DomainCreateXML({
      xml_desc: guestDomainXml(uniqueName("fnguest"), { network: net.name, mac, serialLog }),
      flags: 0,
    }));
    [, ip] = (await waitForConsole(serialLog, /VIRTWIRE-GUEST: lease (\S+)/)) as [string, string];
  });

  afterAll(async () => {
    if (dom) await lv.DomainDestroy({ dom }).catch(() => undefined);
    if (net) await lv.NetworkDestroy({ net }).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The network's leases once the guest's is among them (dnsmasq writes it just after). */
  async function leasesWithGuest(): Promise<GetNetworkDhcpLeasesResult> {
    for (let tries = 0; ; tries++) {
      const result = await getNetworkDhcpLeases({ network: net.name }, opts);
      if (result.leases.some((lease) => lease.mac === mac) || tries === 40) return result;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  it("lists the guest's lease on its network, by name and by UUID", async () => {
    const result = await leasesWithGuest();
    expect(result).toMatchObject({ name: net.name, uuid: formatUuid(net.uuid) });
    expect(result.leases).toContainEqual(
      expect.objectContaining({ mac, ipAddress: ip, type: "ipv4", prefix: 24 }),
    );
    const lease = result.leases.find((l) => l.mac === mac)!;
    expect(lease.expiryTime).toBeGreaterThan(Date.now() / 1000);
    const byUuid = await getNetworkDhcpLeases({ network: formatUuid(net.uuid), mac }, opts);
    expect(byUuid.leases).toEqual([lease]);
  });

  it("lists no lease for a MAC address the network never saw", async () => {
    const result = await getNetworkDhcpLeases({ network: net.name, mac: randomMac() }, opts);
    expect(result.leases).toEqual([]);
  });

  it("gives the guest's address from the network's leases, by name and by UUID", async () => {
    await leasesWithGuest();
    const byName = await getDomainInterfaceAddresses({ domain: dom.name }, opts);
    expect(byName).toMatchObject({ name: dom.name, uuid: formatUuid(dom.uuid) });
    expect(byName.interfaces).toEqual([
      {
        name: expect.stringMatching(/^vnet\d+$/),
        mac,
        addresses: [{ type: "ipv4", address: ip, prefix: 24 }],
      },
    ]);
    const byUuid = await getDomainInterfaceAddresses(
      { domain: formatUuid(dom.uuid), source: "lease" },
      opts,
    );
    expect(byUuid).toEqual(byName);
  });

  it("reads the host's ARP table when asked to (libvirt 9.0 cannot read this kernel's: its error is passed on)", async () => {
    const asked = getDomainInterfaceAddresses({ domain: dom.name, source: "arp" }, opts);
    const { lib_ver } = await lv.ConnectGetLibVersion();
    if (lib_ver < 10_000_000n) {
      await expect(asked).rejects.toThrow(
        "Calling getDomainInterfaceAddresses failed: internal error: wrong nlmsg len (VIR_ERR_INTERNAL_ERROR, VIR_FROM_NONE)",
      );
      return;
    }
    await asked;
    // The host's table holds the guest once the host has talked to it and the guest answered: a
    // TCP connection attempt from the daemon's namespace (the guest refuses it), then a few
    // seconds until the kernel has confirmed the neighbour.
    const netns = process.env.VIRTWIRE_DAEMON_NETNS;
    const knock = ["bash", "-c", `exec 3<>/dev/tcp/${ip}/9 || true`];
    execFileSync(
      netns ? "ip" : "bash",
      netns ? ["netns", "exec", netns, ...knock] : knock.slice(1),
      {
        stdio: "ignore",
        timeout: 10_000,
      },
    );
    let interfaces: GuestInterface[] = [];
    for (let tries = 0; interfaces.length === 0 && tries < 40; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      ({ interfaces } = await getDomainInterfaceAddresses(
        { domain: dom.name, source: "arp" },
        opts,
      ));
    }
    expect(interfaces).toEqual([
      {
        name: expect.stringMatching(/^vnet\d+$/),
        mac,
        addresses: [{ type: "ipv4", address: ip, prefix: 0 }],
      },
    ]);
  });

  it("passes on libvirt's refusal to ask a guest agent the domain does not have", async () => {
    await expect(
      getDomainInterfaceAddresses({ domain: dom.name, source: "agent" }, opts),
    ).rejects.toThrow(
      /^Calling getDomainInterfaceAddresses failed: .*\(VIR_ERR_[A-Z_]+, VIR_FROM_QEMU\)$/,
    );
  });

  it("serves the plugin's invoke the same, on the provider's shared connection", async () => {
    const settings = readSettings({
      get: (key) => (key === "virtwire:uri" ? TEST_URI : undefined),
    });
    const connections = new ConnectionCache();
    try {
      const result = await invokeFunction(
        "virtwire:index:getDomainInterfaceAddresses",
        { domain: dom.name },
        { settings, connections },
      );
      expect(result).toEqual(await getDomainInterfaceAddresses({ domain: dom.name }, opts));
    } finally {
      await connections.closeAll();
    }
  });
});

describe("what the functions say when there is nothing to ask", () => {
  it("says a domain is not on the host", async () => {
    const name = uniqueName("nothere");
    await expect(getDomainInterfaceAddresses({ domain: name }, opts)).rejects.toThrow(
      new RegExp(`^Domain '${name}' not found on host default$`),
    );
  });

  it("says a network is not on the host", async () => {
    const name = uniqueName("nothere");
    await expect(getNetworkDhcpLeases({ network: name }, opts)).rejects.toThrow(
      new RegExp(`^Network '${name}' not found on host default$`),
    );
  });

  it("says a domain that does not run has no addresses to read", async () => {
    const name = uniqueName("fnoff");
    const { dom } = await lv.DomainDefineXML({
      xml: guestDomainXml(name, { serialLog: join(tmpdir(), `${name}.log`) }),
    });
    try {
      await expect(getDomainInterfaceAddresses({ domain: name }, opts)).rejects.toThrow(
        `Domain '${name}' on host default is not running: libvirt reads interface addresses only while a domain runs`,
      );
    } finally {
      await lv.DomainUndefine({ dom });
    }
  });
});
