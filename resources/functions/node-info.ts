/**
 * getNodeInfo: the host's CPU, memory and topology (NODE_GET_INFO), with its name, free memory,
 * CPU model and the libvirt and hypervisor versions: a few small calls, made together.
 */
import type { Libvirt } from "../../rpc";
import type { GetNodeInfoArgs, GetNodeInfoResult } from "../kit/generated/types";
import { element, parseXml, text } from "../kit/xml";

export async function getNodeInfo(lv: Libvirt, _args: GetNodeInfoArgs): Promise<GetNodeInfoResult> {
  const [info, { hostname }, { lib_ver }, { type }, { hv_ver }, { freeMem }, { capabilities }] =
    await Promise.all([
      lv.NodeGetInfo(),
      lv.ConnectGetHostname(),
      lv.ConnectGetLibVersion(),
      lv.ConnectGetType(),
      lv.ConnectGetVersion(),
      lv.NodeGetFreeMemory(),
      lv.ConnectGetCapabilities(),
    ]);
  const cpu = element(element(parseXml(capabilities, "capabilities"), "host"), "cpu");
  const [arch, cpuModel, cpuVendor] = [text(cpu, "arch"), text(cpu, "model"), text(cpu, "vendor")];
  return {
    hostname,
    model: info.model,
    ...(arch !== undefined && { arch }),
    ...(cpuModel !== undefined && { cpuModel }),
    ...(cpuVendor !== undefined && { cpuVendor }),
    // NODE_GET_INFO gives KiB.
    memory: Number(info.memory * 1024n),
    freeMemory: Number(freeMem),
    cpus: info.cpus,
    mhz: info.mhz,
    nodes: info.nodes,
    sockets: info.sockets,
    cores: info.cores,
    threads: info.threads,
    libvirtVersion: versionText(lib_ver),
    hypervisor: type,
    // 0: the driver has no version of its own.
    ...(hv_ver !== 0n && { hypervisorVersion: versionText(hv_ver) }),
  };
}

/** libvirt's version numbers, major·10⁶ + minor·10³ + micro, as `9.0.0`. */
export function versionText(version: bigint): string {
  const value = Number(version);
  return `${Math.floor(value / 1_000_000)}.${Math.floor(value / 1000) % 1000}.${value % 1000}`;
}
