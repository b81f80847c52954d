/**
 * Domain rules that schema.json cannot express, checked after the schema's own (types, enums,
 * patterns, bounds, sizes) and before anything reaches libvirt. Each failure names the property
 * and what to do. Values not known yet (preview) are skipped.
 */
import { isIP } from "node:net";
import type { CheckFailure } from "../kit/resource";
import { bareNumberHint } from "../kit/units";
import type { CheckedDomainInputs } from "../kit/generated/checked";
import { parseSize } from "../kit/units";
import { defaultBus, formatBytes, isSet, isUnknown, targetPrefix } from "./normalize";
import { checkPatches } from "./patches";
import { checkConsole, checkDevices } from "./device-checks";
import { checkMachine } from "./check-machine";
import { checkEdits } from "./check-edits";
import { checkFirmware } from "./check-firmware";
import { checkDiskTuning } from "./check-disks";
import { checkHostdevs, checkInterfaceExtras } from "./nic-checks";
import { attachmentOf } from "./nic-xml";

/** Rules see the checked inputs that are known: any of them may be missing in a preview. */
type Rule = (inputs: Partial<CheckedDomainInputs>) => CheckFailure[];

export function checkDomain(given: CheckedDomainInputs): CheckFailure[] {
  // In preview, any input may be a value not known yet: rules see only what is known.
  const inputs: Partial<CheckedDomainInputs> = Object.fromEntries(
    Object.entries(given).filter(([, value]) => !isUnknown(value)),
  );
  const patches: Rule = (domain) => checkPatches(domain.xmlPatches ?? []);
  const rules = [
    sizes,
    direct,
    cpu,
    disks,
    sharedImages,
    cloudInit,
    interfaces,
    graphicsRule,
    checkConsole,
    addresses,
    cloudInitWait,
    boot,
    checkDevices,
    checkDiskTuning,
    checkInterfaceExtras,
    checkHostdevs,
  ];
  // checkFirmware tells an unknown value (preview) from an unset one itself.
  const failures = [...rules, patches, checkMachine]
    .flatMap((rule) => rule(inputs))
    .concat(checkFirmware(given));
  // The edits are tried on the XML the inputs build, so only once the rest is sound.
  return failures.length > 0 ? failures : checkEdits(given);
}

const fail = (property: string, reason: string): CheckFailure[] => [{ property, reason }];

const isObject = (value: unknown): boolean => typeof value === "object" && value !== null;

const sizes: Rule = (inputs) => {
  const failures: CheckFailure[] = [];
  for (const property of ["memory", "maxMemory"] as const) {
    const value = parseSize(inputs[property]);
    if (value === undefined) continue;
    if (value < 1024 * 1024) {
      failures.push(
        ...fail(
          property,
          `${property} must be at least 1MiB; got ${inputs[property]}${bareNumberHint(inputs[property])}`,
        ),
      );
    } else if (value % 1024 !== 0) {
      failures.push(
        ...fail(
          property,
          `${property} ${inputs[property]} is not a whole number of KiB: libvirt would round it and every run would see a difference; use e.g. ${formatBytes(value - (value % 1024))}`,
        ),
      );
    }
  }
  const memory = parseSize(inputs.memory);
  const max = parseSize(inputs.maxMemory);
  if (memory !== undefined && max !== undefined && memory > max) {
    failures.push(
      ...fail(
        "memory",
        `memory ${inputs.memory} is more than maxMemory ${inputs.maxMemory}: raise maxMemory or lower memory`,
      ),
    );
  }
  const { vcpu, maxVcpus } = inputs;
  if (typeof vcpu === "number" && typeof maxVcpus === "number" && vcpu > maxVcpus) {
    failures.push(
      ...fail(
        "vcpu",
        `vcpu ${vcpu} is more than maxVcpus ${maxVcpus}: raise maxVcpus or lower vcpu`,
      ),
    );
  }
  return failures;
};

const direct: Rule = (inputs) =>
  (["initrd", "cmdline"] as const).flatMap((property) =>
    isSet(inputs[property]) && !isSet(inputs.kernel)
      ? fail(
          property,
          `${property} is only used for direct kernel boot: set kernel too, or remove ${property}`,
        )
      : [],
  );

const cpu: Rule = ({ cpu: spec, type }) => {
  if (!spec || isUnknown(spec.mode)) return [];
  if (spec.mode === "custom" && !isSet(spec.model)) {
    return fail(
      "cpu.model",
      `cpu.mode "custom" needs cpu.model (e.g. "qemu64" or "Skylake-Client")`,
    );
  }
  if (spec.mode === "host-passthrough" && type === "qemu") {
    return fail(
      "cpu.mode",
      `cpu.mode "host-passthrough" needs KVM, and type is "qemu" (emulation): use cpu.mode "maximum" (or "custom" with a model), or type "kvm"`,
    );
  }
  if (spec.mode !== "custom" && isSet(spec.model)) {
    return fail(
      "cpu.model",
      `cpu.model is only used with cpu.mode "custom"; got mode ${JSON.stringify(spec.mode)}`,
    );
  }
  return [];
};

/** A disk's sources, of which it has one (an empty CD-ROM drive none). */
const SOURCES = ["volume", "file", "block", "network"] as const;

const disks: Rule = (inputs) => {
  const failures: CheckFailure[] = [];
  const targets = new Map<string, number>();
  (inputs.disks ?? []).forEach((disk, index) => {
    if (!isObject(disk)) return;
    const path = `disks[${index}]`;
    const device = disk.device;
    const bus = disk.bus ?? defaultBus(device);
    const sources = SOURCES.filter((source) => isSet(disk[source]));
    if (sources.length > 1) {
      failures.push(...fail(path, `${path} has ${sources.join(" and ")}: give one source`));
    } else if (sources.length === 0 && device !== "cdrom") {
      failures.push(
        ...fail(
          path,
          `${path} has no source: give volume ({ pool, name }), file (a path), block (a device) or network; only a cdrom may be empty`,
        ),
      );
    }
    if (device === "cdrom" && bus === "virtio") {
      failures.push(
        ...fail(
          `${path}.bus`,
          `${path}.bus virtio: a cdrom cannot be on the virtio bus; use sata (the default), scsi or ide`,
        ),
      );
    }
    if (device === "cdrom" && disk.readOnly === false) {
      failures.push(
        ...fail(
          `${path}.readOnly`,
          `${path}.readOnly false: a cdrom is always read-only; remove readOnly: false`,
        ),
      );
    }
    // A q35 machine has no IDE controller (libvirt: "IDE controllers are unsupported for this QEMU
    // binary or machine type"; found by the generated-inputs test on libvirt 11).
    if (bus === "ide" && typeof inputs.machine === "string" && /q35/.test(inputs.machine)) {
      failures.push(
        ...fail(
          `${path}.bus`,
          `${path}.bus ide: machine ${inputs.machine} has no IDE controller; use bus sata (or virtio for a disk)`,
        ),
      );
    }
    // QEMU's IDE and SATA disks cannot be read-only (libvirt: "readonly sata disks are not
    // supported"; found by the generated-inputs test). A cdrom is read-only anyway.
    if (device === "disk" && disk.readOnly === true && (bus === "sata" || bus === "ide")) {
      failures.push(
        ...fail(
          `${path}.readOnly`,
          `${path}.readOnly: QEMU has no read-only ${bus} disks; use bus virtio or scsi, or device cdrom`,
        ),
      );
    }
    if (isSet(disk.target) && !isUnknown(disk.target) && !isUnknown(bus)) {
      if (!disk.target.startsWith(targetPrefix(bus))) {
        failures.push(
          ...fail(
            `${path}.target`,
            `${path}.target ${disk.target} does not fit bus ${bus}: use a name starting with ${targetPrefix(bus)}`,
          ),
        );
      }
      const first = targets.get(disk.target);
      if (first !== undefined) {
        failures.push(
          ...fail(
            `${path}.target`,
            `${path}.target ${disk.target} is already used by disks[${first}]`,
          ),
        );
      } else {
        targets.set(disk.target, index);
      }
    }
  });
  return failures;
};

/**
 * One image in two places with a writer among them: QEMU locks an image it writes, and the
 * domain would not start ("Failed to get \"write\" lock"; found by the generated-inputs test).
 * A cdrom and the cloud-init disk are read-only; images are told apart by path or pool and name.
 */
const sharedImages: Rule = (inputs) => {
  const users: { property: string; key: string; writes: boolean }[] = [];
  (inputs.disks ?? []).forEach((disk, index) => {
    if (!isObject(disk)) return;
    const key = imageKey(disk.file ?? disk.block, disk.volume);
    const writes = disk.device === "disk" && disk.readOnly !== true && disk.shareable !== true;
    if (key) users.push({ property: `disks[${index}]`, key, writes });
  });
  const seed = inputs.cloudInitDisk;
  const seedKey = seed && isObject(seed) ? imageKey(seed.path, seed) : undefined;
  if (seedKey) users.push({ property: "cloudInitDisk", key: seedKey, writes: false });
  return users.flatMap((user, index) => {
    const first = users.findIndex((other) => other.key === user.key);
    const conflict = first < index && (user.writes || users[first]!.writes);
    return conflict
      ? fail(
          user.property,
          `${user.property} uses the image of ${users[first]!.property} too, and QEMU locks an image a disk writes: give each its own image, or make every disk on it readOnly or shareable`,
        )
      : [];
  });
};

function imageKey(file: unknown, volume: unknown): string | undefined {
  if (typeof file === "string" && !isUnknown(file)) return `file ${file.replace(/\/+/g, "/")}`;
  if (!isObject(volume)) return undefined;
  const { pool, name } = volume as { pool?: unknown; name?: unknown };
  if (typeof pool !== "string" || typeof name !== "string") return undefined;
  if (isUnknown(pool) || isUnknown(name)) return undefined;
  return `volume ${pool}/${name}`;
}

const cloudInit: Rule = ({ cloudInitDisk: seed }) => {
  if (!seed) return [];
  const hasVolume = isSet(seed.pool) || isSet(seed.name);
  if (isSet(seed.path) && hasVolume) {
    return fail(
      "cloudInitDisk",
      "cloudInitDisk has both path and pool/name: give one (a CloudInitDisk's path output, or its pool and name)",
    );
  }
  if (!isSet(seed.path) && !(isSet(seed.pool) && isSet(seed.name))) {
    return fail("cloudInitDisk", "cloudInitDisk needs path, or both pool and name");
  }
  return [];
};

const interfaces: Rule = (inputs) => {
  const failures: CheckFailure[] = [];
  const macs = new Map<string, number>();
  (inputs.networkInterfaces ?? []).forEach((nic, index) => {
    if (!isObject(nic)) return;
    const path = `networkInterfaces[${index}]`;
    if ([nic.network, nic.bridge, nic.direct].filter(isSet).length !== 1) {
      failures.push(
        ...fail(
          path,
          `${path} needs exactly one of network (a libvirt network), bridge (a host bridge) or direct (a host interface, macvtap)`,
        ),
      );
    }
    if (!isSet(nic.mac) || isUnknown(nic.mac)) return;
    const mac = nic.mac.toLowerCase();
    if (parseInt(mac.slice(0, 2), 16) % 2 === 1) {
      failures.push(
        ...fail(
          `${path}.mac`,
          `${path}.mac ${nic.mac} is a multicast address: the first byte must be even (e.g. 52:54:00:…)`,
        ),
      );
    }
    const first = macs.get(mac);
    if (first !== undefined) {
      failures.push(
        ...fail(
          `${path}.mac`,
          `${path}.mac ${nic.mac} is already used by networkInterfaces[${first}]`,
        ),
      );
    } else {
      macs.set(mac, index);
    }
  });
  return failures;
};

/**
 * libvirt's domain schema takes an IP address or a host name (letters, digits, dots and dashes)
 * where the display listens; anything else failed the define at up (found by the generated-inputs
 * test).
 */
const graphicsRule: Rule = ({ graphics }) => {
  const listen = isObject(graphics) ? graphics!.listen : undefined;
  if (typeof listen !== "string" || isUnknown(listen)) return [];
  if (isIP(listen) || /^[A-Za-z0-9.-]+$/.test(listen)) return [];
  return fail(
    "graphics.listen",
    `graphics.listen ${JSON.stringify(listen)} is not an IP address or host name: use e.g. 127.0.0.1 (this host only) or 0.0.0.0 (every address)`,
  );
};

const addresses: Rule = (inputs) => {
  const wait = inputs.waitForAddresses;
  if (!wait) return [];
  const nics = inputs.networkInterfaces ?? [];
  if (inputs.running === false) {
    return fail(
      "waitForAddresses",
      "waitForAddresses needs running: true: a stopped domain gets no addresses",
    );
  }
  if (nics.length === 0) {
    return fail(
      "waitForAddresses",
      "waitForAddresses needs at least one entry in networkInterfaces",
    );
  }
  if (wait.source === "agent" && !inputs.qemuAgent) {
    return fail(
      "waitForAddresses.source",
      `waitForAddresses.source "agent" needs qemuAgent: true (the guest agent channel), and the agent installed in the guest`,
    );
  }
  const index = nics.findIndex((nic) => isSet(nic.bridge) || isSet(nic.direct));
  if (index >= 0 && wait.source === "lease") {
    return fail(
      "waitForAddresses.source",
      `waitForAddresses.source "lease" cannot work for networkInterfaces[${index}] on ${attachmentOf(nics[index]!)}: libvirt sees DHCP leases only on its own networks; use "agent" or "any" with qemuAgent: true`,
    );
  }
  if (index >= 0 && wait.source === "any" && !inputs.qemuAgent) {
    return fail(
      "waitForAddresses",
      `waitForAddresses needs qemuAgent: true for networkInterfaces[${index}] on ${attachmentOf(nics[index]!)}: only the guest agent can tell its address`,
    );
  }
  return [];
};

const cloudInitWait: Rule = (inputs) => {
  if (!isSet(inputs.waitForCloudInit)) return [];
  if (inputs.running === false) {
    return fail(
      "waitForCloudInit",
      "waitForCloudInit needs running: true: cloud-init runs only in a running guest",
    );
  }
  if (inputs.qemuAgent === false) {
    return fail(
      "waitForCloudInit",
      "waitForCloudInit needs qemuAgent: true: cloud-init's result is read through the QEMU guest agent; set qemuAgent: true on this Domain, and use an image with qemu-guest-agent and cloud-init",
    );
  }
  return [];
};

const boot: Rule = (inputs) => {
  const seen = new Set<string>();
  for (const [index, dev] of (inputs.boot ?? []).entries()) {
    if (isUnknown(dev)) continue;
    if (seen.has(dev)) return fail(`boot[${index}]`, `boot[${index}] lists ${dev} a second time`);
    seen.add(dev);
  }
  return [];
};
