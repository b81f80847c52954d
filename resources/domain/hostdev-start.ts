/**
 * A start that fails on a host device: libvirt answers with a generic code (no support for PCI
 * passthrough or VFIO: CONFIG_UNSUPPORTED; a sysfs path that is not there: SYSTEM_ERROR; a device
 * in use or not found: OPERATION_INVALID, OPERATION_FAILED, NO_NODE_DEVICE, DEVICE_MISSING,
 * INTERNAL_ERROR). These codes are generic: they also come from failures that have nothing to do
 * with host devices. So, by those codes (never by the English text), a start of a domain with host
 * devices that fails keeps libvirt's own message first (and as the cause), then says the host
 * devices may be the cause, each with what to check on the host.
 */
import { ErrorCode, LibvirtError } from "../../rpc";
import type { DomainHostdev } from "../kit/generated/types";
import { describeHostdev } from "./xml-hostdevs";

const DEVICE_CODES = new Set<number>([
  ErrorCode.CONFIG_UNSUPPORTED,
  ErrorCode.SYSTEM_ERROR,
  ErrorCode.OPERATION_INVALID,
  ErrorCode.OPERATION_FAILED,
  ErrorCode.NO_NODE_DEVICE,
  ErrorCode.DEVICE_MISSING,
  ErrorCode.INTERNAL_ERROR,
]);

/** `error` itself unless it is a device-class failure of a domain that has host devices. */
export function explainHostdevStart(
  error: unknown,
  name: string,
  hostdevs: DomainHostdev[],
): unknown {
  if (hostdevs.length === 0 || !(error instanceof LibvirtError)) return error;
  if (!DEVICE_CODES.has(error.code)) return error;
  const checks = hostdevs.map(
    (hostdev, index) => `hostdevs[${index}] ${describeHostdev(hostdev)}: ${whatToCheck(hostdev)}`,
  );
  return new Error(
    `domain ${name} did not start: ${error.message} (libvirt error ${error.codeName}). Its host devices may be the cause, as a missing or unusable one gives that error too: check on the libvirt host ${checks.join("; ")}; or remove them from hostdevs`,
    { cause: error },
  );
}

function whatToCheck(hostdev: DomainHostdev): string {
  if (hostdev.pci !== undefined) {
    const binding =
      hostdev.managed === false
        ? "it is bound to vfio-pci (managed is false)"
        : "no host driver holds it in use (managed: libvirt binds it to vfio-pci)";
    return `it exists (lspci -D -s ${hostdev.pci}), the IOMMU is on (intel_iommu=on or amd_iommu=on; /sys/kernel/iommu_groups is not empty), the vfio-pci module is loaded, and ${binding}`;
  }
  if (hostdev.usb)
    return "it is plugged in (lsusb) and /sys/bus/usb is there for libvirt to find it";
  return `it exists (mdevctl list; /sys/bus/mdev/devices/${hostdev.mdev?.uuid}) and the vfio_mdev module is loaded`;
}
