import { randomBytes } from "node:crypto";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUFFERED_READ_SIZE, SCANNED_READ_SIZE } from "./file-reader";
import { openSource } from "./source";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vwtest-source-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The chunk lengths `openSource` yields for an open file of `size` random bytes. */
async function openFileChunkSizes(size: number, sparse: boolean): Promise<number[]> {
  const path = join(dir, `open-${size}-${sparse}.img`);
  await writeFile(path, randomBytes(size));
  const file = await open(path, "r");
  try {
    const source = await openSource(file, 0, sparse);
    const sizes: number[] = [];
    for await (const chunk of source.chunks) sizes.push(chunk.length);
    await source.close();
    return sizes;
  } finally {
    await file.close();
  }
}

describe("openSource", () => {
  it("reads an open file in whole packets for a plain upload", async () => {
    const sizes = await openFileChunkSizes(BUFFERED_READ_SIZE + 10, false);
    expect(sizes).toEqual([BUFFERED_READ_SIZE, 10]);
  });

  it("reads an open file in whole hole-scanner granules for a sparse upload", async () => {
    const sizes = await openFileChunkSizes(SCANNED_READ_SIZE + 10, true);
    expect(sizes).toEqual([SCANNED_READ_SIZE, 10]);
  });
});
