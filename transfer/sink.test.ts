import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSink } from "./sink";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vwtest-sink-"));
});

afterAll(() => rm(dir, { recursive: true, force: true }));

async function download(path: string, exclusive: boolean) {
  const sink = await openSink(path, { exclusive });
  await sink.write([{ type: "data", data: Buffer.from("disk") }]);
  await sink.complete();
}

describe("a download's file", () => {
  it("is readable by its owner only, as a guest's disk may hold keys", async () => {
    const path = join(dir, "new.img");
    await download(path, true);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readFile(path, "utf8")).toBe("disk");
  });

  it("exclusive: is refused when a file is there already, which stays as it was", async () => {
    const path = join(dir, "mine.img");
    await writeFile(path, "mine");
    await expect(download(path, true)).rejects.toMatchObject({ code: "EEXIST" });
    expect(await readFile(path, "utf8")).toBe("mine");
  });

  it("otherwise overwrites a file that is there already", async () => {
    const path = join(dir, "old.img");
    await writeFile(path, "old contents");
    await download(path, false);
    expect(await readFile(path, "utf8")).toBe("disk");
  });
});
