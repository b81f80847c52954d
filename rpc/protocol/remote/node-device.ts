/**
 * REMOTE procedures on the host's devices (remote_protocol.x; libvirt's nodedev driver). Each
 * entry is `[procedure number, args, ret]`; a device is known by its name (`pci_0000_00_04_0`).
 */
import { array, int, struct, uint } from "../../xdr";
import {
  REMOTE_NODE_DEVICE_LIST_MAX,
  RemoteNonnullNodeDevice,
  RemoteNonnullString,
  RemoteString,
} from "./types";

const Name = struct({ name: RemoteNonnullString });

export const nodeDeviceProcedures = {
  /** REMOTE_PROC_NODE_NUM_OF_DEVICES (111): `cap` (e.g. `pci`) counts only devices with it. */
  NodeNumOfDevices: [111, struct({ cap: RemoteString, flags: uint }), struct({ num: int })],
  /** REMOTE_PROC_NODE_LIST_DEVICES (112): at most `maxnames` names, filtered by `cap`. */
  NodeListDevices: [
    112,
    struct({ cap: RemoteString, maxnames: int, flags: uint }),
    struct({ names: array(RemoteNonnullString, REMOTE_NODE_DEVICE_LIST_MAX) }),
  ],
  /** REMOTE_PROC_NODE_DEVICE_LOOKUP_BY_NAME (113) */
  NodeDeviceLookupByName: [113, Name, struct({ dev: RemoteNonnullNodeDevice })],
  /** REMOTE_PROC_NODE_DEVICE_GET_XML_DESC (114): the `<device>` document. */
  NodeDeviceGetXMLDesc: [
    114,
    struct({ name: RemoteNonnullString, flags: uint }),
    struct({ xml: RemoteNonnullString }),
  ],
  /** REMOTE_PROC_NODE_DEVICE_GET_PARENT (115): null for the root device (`computer`). */
  NodeDeviceGetParent: [115, Name, struct({ parentName: RemoteString })],
  /**
   * REMOTE_PROC_CONNECT_LIST_ALL_NODE_DEVICES (285); send need_results 1 to get the list. `flags`
   * filter by capability (ConnectListAllNodeDevicesFlags), 0 lists every device.
   */
  ConnectListAllNodeDevices: [
    285,
    struct({ need_results: int, flags: uint }),
    struct({ devices: array(RemoteNonnullNodeDevice, REMOTE_NODE_DEVICE_LIST_MAX), ret: uint }),
  ],
} as const;
