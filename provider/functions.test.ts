import type { Libvirt } from "../rpc";
import { readSettings } from "./config";
import { FunctionHosts, invokeFunction } from "./functions";

/** Settings of a default host and `kvm1`; connecting hands out `lv` (or fails with `error`). */
function hosts(lv: Partial<Libvirt> | Error): FunctionHosts & { asked: string[] } {
  const asked: string[] = [];
  const config: Record<string, string> = {
    "virtwire:uri": "qemu:///system",
    "virtwire:hosts": JSON.stringify({ kvm1: { uri: "qemu+ssh://root@kvm1/system" } }),
  };
  return {
    asked,
    settings: readSettings({ get: (key) => config[key] }, {}),
    connections: {
      get: async (host) => {
        asked.push(host.name);
        if (lv instanceof Error) throw lv;
        return lv as Libvirt;
      },
    },
  };
}

describe("invoking a function", () => {
  it("refuses a token virtwire has no function for, naming those it has", async () => {
    await expect(invokeFunction("virtwire:index:getNodes", {}, hosts({}))).rejects.toThrow(
      "virtwire has no function virtwire:index:getNodes; it has getNodeInfo, getNodeDevices, getDomainInterfaceAddresses, getNetworkDhcpLeases, getDomainCapabilities",
    );
  });

  it("refuses a misspelt argument with the name it resembles, before connecting", async () => {
    const target = hosts({});
    await expect(
      invokeFunction("virtwire:index:getNodeDevices", { capabilty: "pci" }, target),
    ).rejects.toThrow(
      'getNodeDevices cannot be called with these arguments: capabilty is not a property of getNodeDevices; did you mean "capability"?',
    );
    expect(target.asked).toEqual([]);
  });

  it("refuses a missing required argument and a value outside an enum", async () => {
    await expect(
      invokeFunction("virtwire:index:getDomainInterfaceAddresses", { source: "dhcp" }, hosts({})),
    ).rejects.toThrow(
      'getDomainInterfaceAddresses cannot be called with these arguments: domain is required: give it to getDomainInterfaceAddresses; source must be one of "lease", "agent", "arp"; got "dhcp"',
    );
  });

  it("asks the host its host argument names", async () => {
    const target = hosts(new Error("no route"));
    await expect(
      invokeFunction("virtwire:index:getNodeInfo", { host: "kvm1" }, target),
    ).rejects.toThrow("Calling getNodeInfo on host kvm1 failed: no route");
    expect(target.asked).toEqual(["kvm1"]);
  });

  it("refuses a host that is not configured, naming the configured ones", async () => {
    await expect(
      invokeFunction("virtwire:index:getNodeInfo", { host: "kvm2" }, hosts({})),
    ).rejects.toThrow('host "kvm2" is not configured: known hosts are kvm1');
  });
});
