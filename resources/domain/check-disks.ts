/**
 * Rules for a disk's tuning (xml-disks.ts) that schema.json cannot express: settings that need
 * another setting (QEMU refuses them at start, long after the preview), boot orders against the
 * domain's `boot` list, I/O limits QEMU would refuse, and network disks libvirt would refuse.
 */
import type { CheckFailure } from "../kit/resource";
import type { CheckedDomainInputs } from "../kit/generated/checked";
import type { DomainDisk, DomainDiskIoTune, DomainDiskNetwork } from "../kit/generated/types";
import { defaultBus, isSet, isUnknown } from "./normalize";

type Inputs = Partial<CheckedDomainInputs>;

const fail = (property: string, reason: string): CheckFailure[] => [{ property, reason }];

const known = (value: unknown): boolean => value !== undefined && !isUnknown(value);

export function checkDiskTuning(inputs: Inputs): CheckFailure[] {
  const disks = (inputs.disks ?? []).filter((disk) => typeof disk === "object" && disk !== null);
  return [
    ...disks.flatMap((disk, index) => oneDisk(disk, `disks[${index}]`)),
    ...disks.flatMap((disk, index) => ioThread(disk, `disks[${index}].iothread`, inputs)),
    ...bootOrders(inputs),
  ];
}

/** libvirt: an I/O thread the domain has, for a virtio disk ("IOThreads only available for virtio"). */
function ioThread(disk: DomainDisk, path: string, inputs: Inputs): CheckFailure[] {
  if (!known(disk.iothread) || isUnknown(inputs.iothreads)) return [];
  const bus = disk.bus ?? defaultBus(disk.device);
  if (known(bus) && bus !== "virtio") {
    return fail(
      path,
      `${path}: only virtio disks take an I/O thread (bus is ${bus}): use bus virtio, or remove iothread`,
    );
  }
  const threads = inputs.iothreads ?? 0;
  if (disk.iothread! > threads) {
    return fail(
      path,
      `${path} ${disk.iothread} is not one of the domain's I/O threads (iothreads is ${threads || "unset"}): set iothreads to at least ${disk.iothread}`,
    );
  }
  return [];
}

function oneDisk(disk: DomainDisk, path: string): CheckFailure[] {
  const failures: CheckFailure[] = [];
  // QEMU: "aio=native was specified, but it requires cache.direct=on".
  const cache = disk.cache ?? "writeback";
  if (disk.io === "native" && !isUnknown(cache) && cache !== "none" && cache !== "directsync") {
    failures.push(
      ...fail(
        `${path}.io`,
        `${path}.io native needs cache none or directsync (cache is ${cache}): set cache: "none", or use io threads or io_uring`,
      ),
    );
  }
  const discard = disk.discard ?? "ignore";
  if (disk.detectZeroes === "unmap" && !isUnknown(discard) && discard !== "unmap") {
    failures.push(
      ...fail(
        `${path}.detectZeroes`,
        `${path}.detectZeroes unmap needs discard unmap (discard is ${discard}): set discard: "unmap", or use detectZeroes on`,
      ),
    );
  }
  const bus = disk.bus ?? defaultBus(disk.device);
  // libvirt: "Only ide and scsi disks support wwn".
  if (known(disk.wwn) && known(bus) && bus !== "scsi" && bus !== "ide") {
    failures.push(
      ...fail(
        `${path}.wwn`,
        `${path}.wwn: only disks on bus scsi or ide have a WWN (bus is ${bus}): use bus scsi, or give serial instead`,
      ),
    );
  }
  // libvirt: "shared access for disk requires use of supported storage format" (raw only).
  if (disk.shareable === true && known(disk.format) && disk.format !== "raw") {
    failures.push(
      ...fail(
        `${path}.shareable`,
        `${path}.shareable: QEMU shares only raw images (format is ${disk.format}): use format raw, or remove shareable`,
      ),
    );
  }
  if (known(disk.iotune)) failures.push(...ioTune(disk.iotune!, `${path}.iotune`));
  if (known(disk.network)) failures.push(...network(disk.network!, `${path}.network`));
  return failures;
}

/** What libvirt refuses of a network disk (virDomainDiskSourceNetworkParse and QEMU's checks). */
function network(source: DomainDiskNetwork, path: string): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const { protocol, hosts, auth } = source;
  if (!known(protocol)) return [];
  if (known(hosts) && hosts.length === 0) {
    failures.push(
      ...fail(
        `${path}.hosts`,
        `${path}.hosts is empty: give the server, e.g. [{ name: "192.0.2.10" }]`,
      ),
    );
  }
  if (protocol !== "rbd" && known(hosts) && hosts.length > 1) {
    failures.push(
      ...fail(
        `${path}.hosts`,
        `${path}.hosts: ${protocol} takes one server, not ${hosts.length}: give one (only rbd takes several monitors)`,
      ),
    );
  }
  if (protocol !== "nbd" && source.name === undefined) {
    const example = protocol === "rbd" ? "pool/image" : "iqn.2024-01.org.example:disk/1";
    failures.push(
      ...fail(`${path}.name`, `${path}: ${protocol} needs name: give it, e.g. "${example}"`),
    );
  }
  if (auth && protocol === "nbd") {
    failures.push(
      ...fail(
        `${path}.auth`,
        `${path}.auth: libvirt authenticates iscsi and rbd disks only: remove auth for nbd`,
      ),
    );
  } else if (auth && known(auth)) {
    const given = [auth.secretUuid, auth.secretUsage].filter((value) => value !== undefined);
    if (given.length !== 1) {
      failures.push(
        ...fail(
          `${path}.auth`,
          `${path}.auth needs the libvirt secret by secretUuid or by secretUsage: give one of them`,
        ),
      );
    }
  }
  return failures;
}

/** QEMU's throttling rules (throttle_is_valid), each for bytes and for IOPS. */
function ioTune(iotune: DomainDiskIoTune, path: string): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const value = (key: keyof DomainDiskIoTune): number =>
    known(iotune[key]) ? (iotune[key] as number) : 0;
  for (const kind of ["Bytes", "Iops"] as const) {
    const total = `total${kind}Sec` as const;
    for (const rw of ["read", "write"] as const) {
      const split = `${rw}${kind}Sec` as const;
      if (value(total) > 0 && value(split) > 0) {
        failures.push(
          ...fail(
            `${path}.${split}`,
            `${path}: ${total} and ${split} cannot both be set: give one total limit, or read and write limits`,
          ),
        );
      }
    }
    for (const rw of ["total", "read", "write"] as const) {
      const base = `${rw}${kind}Sec` as const;
      const max = `${base}Max` as const;
      if (value(max) > 0 && value(max) < value(base)) {
        failures.push(
          ...fail(
            `${path}.${max}`,
            `${path}.${max} ${value(max)} is below ${base} ${value(base)}: a burst limit must be at least its base limit`,
          ),
        );
      } else if (value(max) > 0 && value(base) === 0 && !isUnknown(iotune[base])) {
        failures.push(
          ...fail(
            `${path}.${max}`,
            `${path}.${max} needs ${base}: set ${base} (the limit the burst goes above) too`,
          ),
        );
      }
    }
  }
  return failures;
}

/** Per-disk boot orders replace the domain's `boot` list (libvirt refuses both); each is unique. */
function bootOrders(inputs: Inputs): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const seen = new Map<number, number>();
  const bootList = isSet(inputs.boot) && (isUnknown(inputs.boot) || inputs.boot!.length > 0);
  (inputs.disks ?? []).forEach((disk, index) => {
    const order = disk?.bootOrder;
    if (!known(order)) return;
    const path = `disks[${index}].bootOrder`;
    if (bootList) {
      failures.push(
        ...fail(
          path,
          `${path}: a disk's boot order and the domain's boot list cannot be used together: remove boot, or the bootOrder of every disk`,
        ),
      );
    }
    const first = seen.get(order!);
    if (first !== undefined) {
      failures.push(
        ...fail(path, `${path} ${order} is already disks[${first}]'s: give each disk its own`),
      );
    } else seen.set(order!, index);
  });
  return failures;
}
