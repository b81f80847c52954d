/**
 * Generated disk tuning (cache, io, discard, detectZeroes, wwn, shareable, boot order, I/O limits)
 * made mostly acceptable, for generated-cases.ts: each rule of resources/domain/check-disks.ts kept
 * nine times in ten, so refusals stay in the mix.
 */
type Args = Record<string, unknown>;

export function finishDiskTuning(disk: Args, usually: () => boolean, domain: Args): void {
  const bootList = domain.boot !== undefined;
  if (disk.io === "native" && !["none", "directsync"].includes(disk.cache as string) && usually())
    disk.cache = "none";
  if (disk.detectZeroes === "unmap" && disk.discard !== "unmap" && usually())
    disk.discard = "unmap";
  const bus = disk.bus ?? (disk.device === "cdrom" ? "sata" : "virtio");
  if (disk.wwn !== undefined && bus !== "scsi" && bus !== "ide" && usually()) delete disk.wwn;
  // Only a raw image is shared, and a volume's format is known only on the host.
  if (disk.shareable === true && disk.format !== "raw" && usually()) delete disk.shareable;
  if (disk.bootOrder !== undefined && bootList && usually()) delete disk.bootOrder;
  // An I/O thread the domain has, on virtio.
  if (typeof disk.iothread === "number" && usually()) {
    if (bus !== "virtio") delete disk.iothread;
    else if (typeof domain.iothreads !== "number" || domain.iothreads < disk.iothread)
      domain.iothreads = disk.iothread;
  }
  const iotune = disk.iotune as Record<string, number> | undefined;
  for (const kind of iotune ? ["Bytes", "Iops"] : []) {
    const limit = (rw: string) => iotune![`${rw}${kind}Sec`] ?? 0;
    if (limit("total") > 0 && usually()) {
      delete iotune![`read${kind}Sec`];
      delete iotune![`write${kind}Sec`];
    }
    for (const rw of ["total", "read", "write"]) {
      const max = iotune![`${rw}${kind}SecMax`];
      if (max !== undefined && (max < limit(rw) || limit(rw) === 0) && usually())
        delete iotune![`${rw}${kind}SecMax`];
    }
  }
}
