/**
 * Applying live-class changes: to the running domain and its persistent config at once
 * (AFFECT_LIVE | AFFECT_CONFIG), or to the config only while it is shut off. Also the lookups a
 * plan needs first: the format of each pool volume, found or reported as missing by name.
 */
import { AffectFlags, isNotFound } from "../../rpc";
import type { Libvirt, RemoteNonnullDomain } from "../../rpc";
import { attr, element, parseXml } from "../kit/xml";
import type { DomainDiskFormat, DomainOutputs } from "../kit/generated/types";
import type { CheckedDomainInputs } from "../kit/generated/checked";
import { parseSize } from "../kit/units";
import { applyDeviceLiveChanges } from "./device-changes";
import { applyIoTune, sameIoTune } from "./disk-iotune";
import { matchDisks, matchInterfaces, sameSource } from "./devices";
import { applyMachineLive } from "./machine-state";
import { VolumeFormats, volumeKey } from "./plan";
import { diskXml, interfaceXml } from "./xml-build";
import { randomMac } from "./nic-xml";
import type { DomainPlan } from "./xml-build";

export async function applyLiveChanges(
  lv: Libvirt,
  dom: RemoteNonnullDomain,
  current: DomainOutputs,
  plan: DomainPlan,
  active: boolean,
): Promise<void> {
  const flags = active ? AffectFlags.LIVE | AffectFlags.CONFIG : AffectFlags.CONFIG;
  const news = plan.inputs;
  const memory = parseSize(news.memory)!;
  if (memory !== parseSize(current.memory)) {
    await lv.DomainSetMemoryFlags({ dom, memory: BigInt(memory / 1024), flags });
  }
  if (news.vcpu !== current.vcpu) {
    await lv.DomainSetVcpusFlags({ dom, nvcpus: news.vcpu, flags });
  }
  // Disks are only ever added here: an unplug or a new source is a restart (diff.ts), never a
  // live change, because the guest may have a filesystem on the disk.
  const disks = matchDisks(plan.disks, current.disks);
  for (const { wanted, current: have } of disks.pairs) {
    if (wanted.device === "cdrom" && !sameSource(wanted, have)) {
      await lv.DomainUpdateDeviceFlags({ dom, xml: diskXml(wanted), flags });
    }
    if (!sameIoTune(wanted, have)) await applyIoTune(lv, dom, wanted.target, wanted.iotune, flags);
  }
  for (const disk of disks.added) {
    await lv.DomainAttachDeviceFlags({ dom, xml: diskXml(disk), flags });
  }
  await applyMachineLive(lv, dom, current, news, flags);
  const nics = matchInterfaces(plan.interfaces, current.networkInterfaces);
  for (const nic of nics.removed) {
    await lv.DomainDetachDeviceFlags({ dom, xml: interfaceXml(nic), flags });
  }
  for (const { wanted, current: have } of nics.pairs) {
    // diff.ts made this live only when the link state is all that differs.
    if (wanted.linkState !== undefined && wanted.linkState !== (have.linkState ?? "up")) {
      const xml = interfaceXml({ ...have, linkState: wanted.linkState });
      await lv.DomainUpdateDeviceFlags({ dom, xml, flags });
    }
  }
  for (const nic of nics.added) {
    // One MAC for the live device and the config copy, whatever libvirt's version does.
    const xml = interfaceXml({ ...nic, mac: nic.mac ?? randomMac() });
    await lv.DomainAttachDeviceFlags({ dom, xml, flags });
  }
  await applyDeviceLiveChanges(lv, dom, current, news, flags);
}

export { randomMac } from "./nic-xml";

/**
 * The format of every pool volume the domain uses, from the volume's XML. A missing pool or volume
 * fails here, naming the property, before the domain is defined or changed.
 */
export async function lookupVolumeFormats(
  lv: Libvirt,
  inputs: CheckedDomainInputs,
): Promise<VolumeFormats> {
  const formats: VolumeFormats = new Map();
  const volumes = inputs.disks.flatMap((disk, index) =>
    disk.volume ? [{ volume: disk.volume, property: `disks[${index}].volume` }] : [],
  );
  const seed = inputs.cloudInitDisk;
  if (seed?.pool !== undefined && seed.name !== undefined) {
    volumes.push({ volume: { pool: seed.pool, name: seed.name }, property: "cloudInitDisk" });
  }
  for (const { volume, property } of volumes) {
    const format = await volumeFormat(lv, volume.pool, volume.name, property);
    if (format) formats.set(volumeKey(volume), format);
  }
  return formats;
}

async function volumeFormat(
  lv: Libvirt,
  poolName: string,
  name: string,
  property: string,
): Promise<DomainDiskFormat | undefined> {
  try {
    const { pool } = await lv.StoragePoolLookupByName({ name: poolName });
    const { vol } = await lv.StorageVolLookupByName({ pool, name });
    const { xml } = await lv.StorageVolGetXMLDesc({ vol, flags: 0 });
    const format = attr(element(element(parseXml(xml, "volume"), "target"), "format"), "type");
    // libvirt's "iso" volumes are raw images to QEMU; other formats (vmdk, vdi…) pass through.
    return (format === "iso" ? "raw" : format) as DomainDiskFormat | undefined;
  } catch (error) {
    if (isNotFound(error)) {
      throw new Error(
        `${property}: there is no volume ${JSON.stringify(name)} in storage pool ${JSON.stringify(poolName)} (${(error as Error).message})`,
        { cause: error },
      );
    }
    throw error;
  }
}
