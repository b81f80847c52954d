import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { volumeExportHandlers } from "./handlers";

const ctx = {} as never;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vwtest-export-"));
});

afterAll(() => rm(dir, { recursive: true, force: true }));

const preflight = (path: string, olds = {}) =>
  volumeExportHandlers.preflight!({ volume: "/v", path }, olds, ctx);

describe("a VolumeExport's preflight", () => {
  it("accepts a new file in a directory that exists", async () => {
    await expect(preflight(join(dir, "new.img"))).resolves.toEqual([]);
  });

  it("refuses a path where a file is already, so nothing is overwritten", async () => {
    await writeFile(join(dir, "taken.img"), "mine");
    const [failure] = await preflight(join(dir, "taken.img"));
    expect(failure).toMatchObject({ property: "path" });
    expect(failure?.reason).toMatch(/exists already.*never overwrites/);
  });

  it("refuses a path whose directory does not exist", async () => {
    const [failure] = await preflight(join(dir, "missing", "a.img"));
    expect(failure?.reason).toMatch(/directory .* does not exist/);
  });

  it("does not ask again about the file it wrote itself", async () => {
    const path = join(dir, "taken.img");
    await expect(preflight(path, { path })).resolves.toEqual([]);
  });
});

describe("a VolumeExport's read", () => {
  it("finds the resource gone when its file was deleted", async () => {
    const outs = { volume: "/v", path: "x", size: 1, dataBytes: 1 };
    await expect(volumeExportHandlers.read(join(dir, "gone.img"), outs, ctx)).resolves.toBe(
      undefined,
    );
  });
});
