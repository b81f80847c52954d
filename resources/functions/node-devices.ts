/**
 * getNodeDevices: the host's devices (CONNECT_LIST_ALL_NODE_DEVICES, filtered by capability on
 * the daemon as virsh nodedev-list --cap does), each read from its XML (node-device-xml.ts).
 */
import { ConnectListAllNodeDevicesFlags as Flags, isNotFound } from "../../rpc";
import type { Libvirt } from "../../rpc";
import type { GetNodeDevicesArgs, GetNodeDevicesResult, NodeDevice } from "../kit/generated/types";
import { readNodeDevice } from "./node-device-xml";

/** libvirt's capability type names (virNodeDevCapType) and the list flag of each. */
export const CAPABILITY_FLAGS: Record<string, number> = {
  system: Flags.CAP_SYSTEM,
  pci: Flags.CAP_PCI_DEV,
  usb_device: Flags.CAP_USB_DEV,
  usb: Flags.CAP_USB_INTERFACE,
  net: Flags.CAP_NET,
  scsi_host: Flags.CAP_SCSI_HOST,
  scsi_target: Flags.CAP_SCSI_TARGET,
  scsi: Flags.CAP_SCSI,
  storage: Flags.CAP_STORAGE,
  fc_host: Flags.CAP_FC_HOST,
  vports: Flags.CAP_VPORTS,
  scsi_generic: Flags.CAP_SCSI_GENERIC,
  drm: Flags.CAP_DRM,
  mdev_types: Flags.CAP_MDEV_TYPES,
  mdev: Flags.CAP_MDEV,
  ccw: Flags.CAP_CCW_DEV,
  css: Flags.CAP_CSS_DEV,
  vdpa: Flags.CAP_VDPA,
  ap_card: Flags.CAP_AP_CARD,
  ap_queue: Flags.CAP_AP_QUEUE,
  ap_matrix: Flags.CAP_AP_MATRIX,
  vpd: Flags.CAP_VPD,
};

export async function getNodeDevices(
  lv: Libvirt,
  args: GetNodeDevicesArgs,
): Promise<GetNodeDevicesResult> {
  const flags = args.capability === undefined ? 0 : CAPABILITY_FLAGS[args.capability];
  if (flags === undefined) throw new Error(`unknown capability type ${args.capability}`);
  const { devices } = await lv.ConnectListAllNodeDevices({ need_results: 1, flags });
  const read = await Promise.all(
    devices.map(async ({ name }): Promise<NodeDevice | undefined> => {
      try {
        const { xml } = await lv.NodeDeviceGetXMLDesc({ name, flags: 0 });
        return readNodeDevice(xml);
      } catch (error) {
        // Unplugged between the list and the read: no longer one of the host's devices.
        if (isNotFound(error)) return undefined;
        throw error;
      }
    }),
  );
  const found = read.filter((device): device is NodeDevice => device !== undefined);
  return { devices: found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) };
}
