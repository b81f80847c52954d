/**
 * check() rules of the interfaces' extras and of host devices that schema.json cannot express:
 * what each needs together, names libvirt would refuse only at define, and a device given twice.
 */
import { isIP } from "node:net";
import { UNKNOWN } from "../kit/check";
import type { CheckFailure } from "../kit/resource";
import type { CheckedDomainInputs } from "../kit/generated/checked";
import { isSet, isUnknown } from "./normalize";

type Fail = (property: string, reason: string) => void;

/** libvirt's filter variable names (nwfilter_params.c): letters, digits and underscores. */
const VARIABLE = /^[A-Za-z0-9_]+$/;

export function checkInterfaceExtras(inputs: Partial<CheckedDomainInputs>): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const fail: Fail = (property, reason) => failures.push({ property, reason });
  const nics = Array.isArray(inputs.networkInterfaces) ? inputs.networkInterfaces : [];
  nics.forEach((nic, index) => {
    if (typeof nic !== "object" || nic === null) return;
    const path = `networkInterfaces[${index}]`;
    const parameters = nic.filter?.parameters;
    if (isSet(parameters) && !isUnknown(parameters)) {
      for (const name of Object.keys(parameters).filter((key) => !VARIABLE.test(key))) {
        fail(
          `${path}.filter.parameters`,
          `${path}.filter.parameters has ${JSON.stringify(name)}, which is not a filter variable name: use letters, digits and _ only (e.g. IP, DHCPSERVER)`,
        );
      }
    }
    const address = nic.address;
    if (typeof address === "string" && !isUnknown(address) && !isIP(address)) {
      fail(
        `${path}.address`,
        `${path}.address ${JSON.stringify(address)} is not an IP address: use e.g. 192.168.122.50`,
      );
    }
    if (isSet(address) && !isSet(nic.network)) {
      fail(
        `${path}.address`,
        `${path}.address needs a libvirt network (network): a fixed address is a DHCP host entry of that network; on a bridge or direct interface set it in the guest`,
      );
    }
    if (isSet(nic.hostname) && !isSet(address)) {
      fail(
        `${path}.hostname`,
        `${path}.hostname needs address: it is the name of the interface's DHCP host entry`,
      );
    }
    if (isSet(nic.direct) && isSet(nic.mtu)) {
      // libvirt refuses it at define (CONFIG_UNSUPPORTED): a macvtap takes its host interface's MTU.
      fail(
        `${path}.mtu`,
        `${path}.mtu cannot be set on a direct interface (it has the MTU of host interface ${nic.direct.device}): set the MTU there, or remove mtu`,
      );
    }
    const passthrough = nic.direct?.mode === "passthrough";
    if (passthrough && isSet(nic.bandwidth)) {
      fail(
        `${path}.bandwidth`,
        `${path}.bandwidth cannot shape a direct interface in passthrough mode (the guest owns the host interface): remove bandwidth, or use mode "bridge"`,
      );
    }
  });
  return failures;
}

export function checkHostdevs(inputs: Partial<CheckedDomainInputs>): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const fail: Fail = (property, reason) => failures.push({ property, reason });
  const hostdevs = Array.isArray(inputs.hostdevs) ? inputs.hostdevs : [];
  const seen = new Map<string, number>();
  hostdevs.forEach((hostdev, index) => {
    if (typeof hostdev !== "object" || hostdev === null) return;
    const path = `hostdevs[${index}]`;
    const kinds = (["pci", "usb", "mdev"] as const).filter((kind) => isSet(hostdev[kind]));
    if (kinds.length !== 1) {
      fail(
        path,
        `${path} needs exactly one of pci (e.g. "0000:03:00.0"), usb ({ vendor, product } or { bus, device }) or mdev ({ uuid })${kinds.length ? `; it has ${kinds.join(" and ")}` : ""}`,
      );
      return;
    }
    const usb = hostdev.usb;
    if (isSet(usb) && !isUnknown(usb)) {
      const byId = isSet(usb.vendor) || isSet(usb.product);
      const byAddress = isSet(usb.bus) || isSet(usb.device);
      if (byId && !(isSet(usb.vendor) && isSet(usb.product))) {
        fail(
          `${path}.usb`,
          `${path}.usb needs both vendor and product (lsusb shows them as vendor:product, e.g. 046d:c077)`,
        );
      } else if (byAddress && !(isSet(usb.bus) && isSet(usb.device))) {
        fail(
          `${path}.usb`,
          `${path}.usb needs both bus and device (lsusb shows "Bus 001 Device 005")`,
        );
      } else if (!byId && !byAddress) {
        fail(`${path}.usb`, `${path}.usb needs vendor and product, or bus and device`);
      }
    }
    const key = identity(hostdev);
    if (key === undefined) return;
    const first = seen.get(key);
    if (first !== undefined) {
      fail(
        path,
        `${path} is the same host device as hostdevs[${first}]: a device can be given to a guest once; remove one`,
      );
    } else seen.set(key, index);
  });
  return failures;
}

/** Which host device an entry names, when it is known yet. */
function identity(
  hostdev: NonNullable<CheckedDomainInputs["hostdevs"]>[number],
): string | undefined {
  const text = JSON.stringify([hostdev.pci, hostdev.usb, hostdev.mdev?.uuid]).toLowerCase();
  return text.includes(UNKNOWN) ? undefined : text;
}
