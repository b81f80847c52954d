import { MARK_BYTES, uploadMark } from "./upload-mark";

describe("the mark of an upload in progress", () => {
  const urn = "urn:pulumi:dev::lab::pulumi-nodejs:dynamic/virtwire:Volume::image";

  it("is 512 bytes: a line for people, a hash of the resource's URN, zeros", () => {
    const mark = uploadMark(urn);
    expect(mark.length).toBe(MARK_BYTES);
    expect(mark.toString("utf8", 0, 29)).toBe("virtwire: upload in progress\n");
    expect(mark.toString("utf8").replace(/\0+$/, "")).toMatch(
      /^virtwire: upload in progress\nresource sha256 [0-9a-f]{64}\n$/,
    );
  });

  it("is the same for a resource every time, and another for another resource", () => {
    expect(uploadMark(urn).equals(uploadMark(urn))).toBe(true);
    expect(uploadMark(urn).equals(uploadMark(`${urn}2`))).toBe(false);
  });
});
