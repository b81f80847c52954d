import { IMAGE_HEADER_BYTES, detectImageFormat } from "./image-format";

/** A qcow2 header: magic, version, backing file offset, its size, cluster bits, virtual size. */
function qcow2Header(
  options: { version?: number; backingOffset?: bigint; size?: bigint } = {},
): Buffer {
  const header = Buffer.alloc(IMAGE_HEADER_BYTES);
  header.write("QFI\xfb", 0, "latin1");
  header.writeUInt32BE(options.version ?? 3, 4);
  header.writeBigUInt64BE(options.backingOffset ?? 0n, 8);
  header.writeUInt32BE(0, 16);
  header.writeUInt32BE(16, 20);
  header.writeBigUInt64BE(options.size ?? 2n * 1024n ** 3n, 24);
  return header;
}

describe("telling images apart by their first bytes", () => {
  it("reads a qcow2 image's virtual size from its header", () => {
    expect(detectImageFormat(qcow2Header({ size: 10n * 1024n ** 3n }))).toEqual({
      format: "qcow2",
      virtualSize: 10 * 1024 ** 3,
    });
    expect(detectImageFormat(qcow2Header({ version: 2 }))).toMatchObject({ format: "qcow2" });
  });

  it("takes anything else as raw content, short content and zeros included", () => {
    expect(detectImageFormat(Buffer.alloc(IMAGE_HEADER_BYTES))).toEqual({ format: "raw" });
    expect(detectImageFormat(Buffer.from("hello"))).toEqual({ format: "raw" });
    expect(detectImageFormat(Buffer.alloc(0))).toEqual({ format: "raw" });
  });

  it("refuses a qcow2 overlay, whose backing file would not exist on the host", () => {
    const result = detectImageFormat(qcow2Header({ backingOffset: 512n }));
    expect(result).toEqual({ refused: expect.stringContaining("refers to a backing file") });
  });

  it("refuses the old qcow format", () => {
    expect(detectImageFormat(qcow2Header({ version: 1 }))).toEqual({
      refused: expect.stringContaining("qcow image of version 1"),
    });
  });

  it.each([
    ["gzip", [0x1f, 0x8b, 0x08], "gunzip it first"],
    ["xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], "unxz it first"],
    ["zstd", [0x28, 0xb5, 0x2f, 0xfd], "unzstd it first"],
    ["VMDK", [...Buffer.from("KDMV")], "qemu-img convert -f vmdk -O qcow2"],
  ])("refuses %s content with the command that converts it", (_kind, magic, fix) => {
    const header = Buffer.alloc(IMAGE_HEADER_BYTES);
    Buffer.from(magic).copy(header);
    expect(detectImageFormat(header)).toEqual({ refused: expect.stringContaining(fix) });
  });

  it("finds the VDI signature at offset 64", () => {
    const header = Buffer.alloc(IMAGE_HEADER_BYTES);
    header.writeUInt32LE(0xbeda107f, 64);
    expect(detectImageFormat(header)).toEqual({ refused: expect.stringContaining("VDI") });
  });
});
