/**
 * virtwire's functions in a program: the host of `virtwire:uri` asked for its node info, and the
 * host `second` of `virtwire:hosts` for what a q35 TCG domain can use, its arguments given as
 * Outputs; the results exported as a user would pass them on to resources.
 */
import * as pulumi from "@pulumi/pulumi";
import * as virtwire from "virtwire";

const info = virtwire.getNodeInfo();

export const node = info.then(({ hostname, cpus, memory, arch, libvirtVersion, hypervisor }) => ({
  hostname,
  cpus,
  memory,
  arch,
  libvirtVersion,
  hypervisor,
}));

const caps = virtwire.getDomainCapabilitiesOutput({
  host: "second",
  virtType: pulumi.output("qemu"),
  machine: "q35",
});

export const q35 = caps.apply(({ machine, machineTypes, loader, cpuModes, diskBuses }) => ({
  machine,
  hasQ35: machineTypes.includes("q35"),
  secureBoot: loader.secureBoot,
  firmwarePaths: loader.paths,
  cpuModes: cpuModes.filter((mode) => mode.supported).map((mode) => mode.name),
  diskBuses,
}));
