import { randomBytes } from "node:crypto";
import { open } from "node:fs/promises";

/** Writes a file of `size` bytes: random data at `extents` ([offset, length]), holes elsewhere. */
export async function writeSparseFile(
  path: string,
  size: number,
  extents: [number, number][],
): Promise<string> {
  const file = await open(path, "w");
  try {
    for (const [offset, length] of extents) {
      await file.write(randomBytes(length), 0, length, offset);
    }
    await file.truncate(size);
  } finally {
    await file.close();
  }
  return path;
}
