/**
 * What an image to upload is, from its first bytes: a qcow2 image (whose header gives the size the
 * guest will see), or raw content; compressed files and other hypervisors' formats are refused
 * with the command that converts them, since a guest could not boot them as uploaded.
 *
 * qcow2 header (https://gitlab.com/qemu-project/qemu/-/blob/master/docs/interop/qcow2.txt),
 * big-endian:
 *
 *   0  magic                 "QFI\xfb"
 *   4  version               2 or 3 (1 is the old qcow format)
 *   8  backing_file_offset   u64, 0 when the image has no backing file
 *  16  backing_file_size     u32
 *  20  cluster_bits          u32
 *  24  size                  u64, the virtual disk size in bytes
 */

/** Bytes to read before deciding: the qcow2 header fields above and every magic below. */
export const IMAGE_HEADER_BYTES = 72;

export type ImageFormat =
  { format: "raw" } | { format: "qcow2"; virtualSize: number } | { refused: string };

const QCOW_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]);

/** Leading bytes of files a guest cannot use as they are, and what to do about them. */
const REFUSED: { magic: Buffer; offset?: number; what: string; fix: string }[] = [
  { magic: Buffer.from([0x1f, 0x8b]), what: "gzip-compressed", fix: "gunzip it first" },
  {
    magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
    what: "xz-compressed",
    fix: "unxz it first",
  },
  { magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), what: "zstd-compressed", fix: "unzstd it first" },
  { magic: Buffer.from("BZh"), what: "bzip2-compressed", fix: "bunzip2 it first" },
  { magic: Buffer.from([0x50, 0x4b, 0x03, 0x04]), what: "a zip archive", fix: "unzip it first" },
  { magic: Buffer.from("KDMV"), what: "a VMDK image", fix: convert("vmdk") },
  { magic: Buffer.from("vhdxfile"), what: "a VHDX image", fix: convert("vhdx") },
  { magic: Buffer.from("conectix"), what: "a dynamic VHD image", fix: convert("vpc") },
  {
    magic: Buffer.from([0x7f, 0x10, 0xda, 0xbe]),
    offset: 64,
    what: "a VDI image",
    fix: convert("vdi"),
  },
];

function convert(format: string): string {
  return `convert it with qemu-img convert -f ${format} -O qcow2 <image> <image>.qcow2`;
}

/** Classifies an image by its first bytes (IMAGE_HEADER_BYTES of them, or all of a shorter image). */
export function detectImageFormat(header: Buffer): ImageFormat {
  for (const { magic, offset = 0, what, fix } of REFUSED) {
    if (header.subarray(offset, offset + magic.length).equals(magic)) {
      return { refused: `it is ${what}, which a guest cannot boot as it is: ${fix}` };
    }
  }
  if (!header.subarray(0, 4).equals(QCOW_MAGIC) || header.length < 32) return { format: "raw" };
  const version = header.readUInt32BE(4);
  if (version !== 2 && version !== 3) {
    return {
      refused: `it is a qcow image of version ${version}, which virtwire does not upload: ${convert("qcow")}`,
    };
  }
  if (header.readBigUInt64BE(8) !== 0n) {
    return {
      refused:
        "it is a qcow2 overlay that refers to a backing file: upload a standalone image (qemu-img convert -O qcow2 <overlay> <image>.qcow2), or upload the base and use baseVolume",
    };
  }
  const virtualSize = header.readBigUInt64BE(24);
  if (virtualSize > BigInt(Number.MAX_SAFE_INTEGER)) {
    return { refused: `its qcow2 header gives an impossible size (${virtualSize} bytes)` };
  }
  return { format: "qcow2", virtualSize: Number(virtualSize) };
}
