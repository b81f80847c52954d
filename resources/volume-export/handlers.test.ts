import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
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

describe("a VolumeExport's diff", () => {
  const olds = { volume: "/v1", path: "./export.img", size: 1, dataBytes: 1 };
  const diff = (news: { volume: string; path: string; host?: string }) =>
    volumeExportHandlers.diff!("id", olds, news, ctx);

  it("deletes the old file first when only the volume changes, since the new one goes to its path", async () => {
    const result = await diff({ volume: "/v2", path: "./export.img" });
    expect(result).toMatchObject({ replaces: ["volume"], deleteBeforeReplace: true });
  });

  it("deletes the old file first when the path names the same file differently", async () => {
    const result = await diff({ volume: "/v1", path: resolve("export.img"), host: "other" });
    expect(result).toMatchObject({ replaces: ["path", "host"], deleteBeforeReplace: true });
  });

  it("makes the new file before deleting the old one when the path changes", async () => {
    const result = await diff({ volume: "/v2", path: "./elsewhere.img" });
    expect(result).toMatchObject({ replaces: ["volume", "path"], deleteBeforeReplace: false });
  });

  it("reports no change when nothing changed", async () => {
    const result = await diff({ volume: "/v1", path: "./export.img" });
    expect(result).toMatchObject({ changes: false, deleteBeforeReplace: false });
  });
});
