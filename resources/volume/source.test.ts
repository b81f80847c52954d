import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openContentSource } from "./source";
import { progressReporter } from "./progress";

async function readAll(chunks: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts).toString();
}

describe("a file source", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "vw-source-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("knows its size and first bytes, and yields all of it", async () => {
    const path = join(dir, "a.img");
    await writeFile(path, "x".repeat(100));
    const source = await openContentSource({ path });
    try {
      expect(source).toMatchObject({ label: path, size: 100 });
      expect(source.header.length).toBe(72);
      expect(await readAll(source.chunks)).toBe("x".repeat(100));
    } finally {
      await source.close();
      await source.close();
    }
  });

  it("says which file it cannot read", async () => {
    await expect(openContentSource({ path: join(dir, "missing.img") })).rejects.toThrow(
      /^cannot read source.path .*missing.img: ENOENT/,
    );
  });
});

describe("upload progress lines", () => {
  /** Status lines as they are, summary lines marked. */
  const collect = (lines: string[]) => ({
    status: (line: string) => lines.push(line),
    log: (line: string) => lines.push(`kept: ${line}`),
  });

  it("says when it starts, reports each further 10 %, at most once a second, and keeps a summary", () => {
    const lines: string[] = [];
    let time = 0;
    const progress = progressReporter(collect(lines), "disk.img", 1000, () => time);
    for (let bytes = 50; bytes <= 1000; bytes += 50) {
      time += 600;
      progress.update(bytes);
    }
    progress.finish({ bytes: 1000, dataBytes: 100, holeBytes: 900 });
    expect(lines.length).toBeGreaterThanOrEqual(6);
    expect(lines.length).toBeLessThanOrEqual(12);
    expect(lines[0]).toBe("virtwire: uploading disk.img: 0 % of 1000 bytes");
    expect(lines[1]).toMatch(/^virtwire: uploading disk\.img: \d+ % \(\d+ bytes of 1000 bytes\), /);
    expect(lines.filter((line) => line.startsWith("kept: "))).toEqual([
      "kept: virtwire: uploaded disk.img: 1000 bytes in 12.0 s (100 bytes of data, 900 bytes sent as holes), 83 bytes/s",
    ]);
  });

  it("reports every 5 seconds when the total is unknown", () => {
    const lines: string[] = [];
    let time = 0;
    const progress = progressReporter(collect(lines), "u", undefined, () => time);
    for (let second = 1; second <= 12; second++) {
      time = second * 1000;
      progress.update(second * 1024 * 1024);
    }
    expect(lines).toEqual([
      "virtwire: uploading u: size not known yet",
      "virtwire: uploading u: 5 MiB, 1 MiB/s",
      "virtwire: uploading u: 10 MiB, 1 MiB/s",
    ]);
  });
});
