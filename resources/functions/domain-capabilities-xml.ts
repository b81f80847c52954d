/**
 * The `<domainCapabilities>` document (CONNECT_GET_DOMAIN_CAPABILITIES;
 * https://libvirt.org/formatdomaincaps.html) read into typed fields:
 *
 *   <domainCapabilities>
 *     <path>/usr/bin/qemu-system-x86_64</path> <domain>qemu</domain>
 *     <machine>pc-q35-7.2</machine> <arch>x86_64</arch> <vcpu max='288'/>
 *     <os supported='yes'>
 *       <enum name='firmware'><value>efi</value></enum>
 *       <loader supported='yes'>
 *         <value>/usr/share/OVMF/OVMF_CODE_4M.fd</value> …      the firmware images
 *         <enum name='type'>…</enum> <enum name='readonly'>…</enum> <enum name='secure'>…</enum>
 *       </loader>
 *     </os>
 *     <cpu>
 *       <mode name='host-model' supported='yes'><model fallback='forbid'>EPYC</model>…</mode>
 *       <mode name='custom' supported='yes'><model usable='yes' vendor='Intel'>Penryn</model>…</mode>
 *     </cpu>
 *     <devices>
 *       <disk supported='yes'><enum name='diskDevice'>…</enum><enum name='bus'>…</enum></disk>
 *       <graphics …> <video …> <hostdev …> <rng …> <tpm …> <filesystem …> …
 *     </devices>
 *     <features><vmcoreinfo supported='yes'/><sev supported='no'/>…</features>
 *   </domainCapabilities>
 *
 * A device or mode with supported='no' offers nothing, whatever its enums list.
 */
import type { GetDomainCapabilitiesResult } from "../kit/generated/types";
import { XmlNode, attr, children, element, elements, parseXml, text } from "../kit/xml";

/** Everything but `machineTypes`, which come from the host's capabilities document. */
export type DomainCapabilities = Omit<GetDomainCapabilitiesResult, "machineTypes">;

export function readDomainCapabilities(xml: string): DomainCapabilities {
  const caps = parseXml(xml, "domainCapabilities");
  const os = supported(element(caps, "os"));
  const loader = supported(element(os, "loader"));
  const cpu = element(caps, "cpu");
  const modes = elements(cpu, "mode");
  const mode = (name: string) => supported(modes.find((m) => attr(m, "name") === name));
  const devices = element(caps, "devices");
  const device = (name: string, enumName: string) =>
    values(supported(element(devices, name)), enumName);
  const maxVcpus = attr(element(caps, "vcpu"), "max");
  return {
    emulator: text(caps, "path") ?? "",
    virtType: text(caps, "domain") ?? "",
    machine: text(caps, "machine") ?? "",
    arch: text(caps, "arch") ?? "",
    ...(maxVcpus !== undefined && { maxVcpus: Number(maxVcpus) }),
    firmware: values(os, "firmware"),
    loader: {
      supported: loader !== undefined,
      paths: elements(loader, "value").map((value) => text(value) ?? ""),
      types: values(loader, "type"),
      readonly: values(loader, "readonly"),
      secureBoot: values(loader, "secure").includes("yes"),
    },
    cpuModes: modes.map((m) => ({
      name: attr(m, "name") ?? "",
      supported: attr(m, "supported") === "yes",
    })),
    ...optional("hostCpuModel", text(mode("host-model"), "model")),
    cpuModels: elements(mode("custom"), "model")
      .filter((model) => attr(model, "usable") !== "no")
      .map((model) => text(model) ?? ""),
    diskDevices: device("disk", "diskDevice"),
    diskBuses: device("disk", "bus"),
    graphicsTypes: device("graphics", "type"),
    videoModels: device("video", "modelType"),
    hostdevTypes: device("hostdev", "subsysType"),
    rngModels: device("rng", "model"),
    tpmModels: device("tpm", "model"),
    filesystemDrivers: device("filesystem", "driverType"),
    features: supportedFeatures(element(caps, "features")),
    xml,
  };
}

/** The node when it is there and not `supported='no'`. */
function supported(node: XmlNode | undefined): XmlNode | undefined {
  return node === undefined || attr(node, "supported") === "no" ? undefined : node;
}

/** The values of the node's `<enum name='…'>`: `<value>` texts; none when the enum is absent. */
function values(node: XmlNode | undefined, name: string): string[] {
  const list = elements(node, "enum").find((e) => attr(e, "name") === name);
  return elements(list, "value").map((value) => text(value) ?? "");
}

/** The names of `<features>` children marked supported='yes' (`vmcoreinfo`, `genid`, …). */
function supportedFeatures(features: XmlNode | undefined): string[] {
  const names = children(features)
    .filter(([, node]) => attr(node, "supported") === "yes")
    .map(([name]) => name);
  return [...new Set(names)];
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}
