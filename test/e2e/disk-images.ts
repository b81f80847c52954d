/**
 * Host-side looks at guest disk images for the real-guest e2e test, with the tools the test bed
 * installs (qemu-img, e2fsprogs): a variant of the Debian image with one more file, the state of
 * the ext4 filesystem inside an overlay a guest has let go of, and whether a QEMU process still
 * holds a file open.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * Copies the raw root filesystem image (holes stay holes) and writes `content` to `guestPath`
 * (a file in an existing directory) inside the copy, without mounting it.
 */
export async function imageVariant(
  raw: string,
  target: string,
  guestPath: string,
  content: string,
): Promise<void> {
  await run("cp", ["--sparse=always", raw, target]);
  const source = `${target}.content`;
  fs.writeFileSync(source, content);
  const commands = `cd ${path.dirname(guestPath)}\nwrite ${source} ${path.basename(guestPath)}\n`;
  fs.writeFileSync(`${target}.debugfs`, commands);
  await run("debugfs", ["-w", "-f", `${target}.debugfs`, target]);
  fs.rmSync(source);
  fs.rmSync(`${target}.debugfs`);
  // debugfs exits 0 whatever happened: read the file back.
  const written = await readFromImage(target, guestPath);
  if (written !== content) throw new Error(`debugfs did not write ${guestPath} into ${target}`);
}

/** A file's content inside a raw ext4 image, or undefined when it is not there. */
export async function readFromImage(raw: string, guestPath: string): Promise<string | undefined> {
  const { stdout, stderr } = await run("debugfs", ["-R", `cat ${guestPath}`, raw]);
  return /File not found/.test(stderr) ? undefined : stdout;
}

export interface FilesystemReport {
  /** `qemu-img check` of the overlay succeeded (no corruption, no leaked clusters). */
  qcow2Consistent: boolean;
  /** dumpe2fs's "Filesystem state", e.g. `clean`. */
  state: string;
  /** The journal still had to be replayed: the filesystem was not unmounted. */
  needsRecovery: boolean;
  /** `e2fsck -fn` exit code: 0 when it found nothing to fix. */
  fsckCode: number;
  /** The content of the file asked for, if present. */
  file?: string;
}

/**
 * Looks inside a qcow2 overlay whose base volume is gone from the pool: `overlay` and `base` are
 * kept copies (hard links) of both, `work` a scratch directory. A view of the overlay is rebased
 * onto the kept base and flattened to raw, so the overlay itself stays untouched.
 */
export async function inspectOverlay(
  overlay: string,
  base: { path: string; format: string },
  work: string,
  guestPath: string,
): Promise<FilesystemReport> {
  const view = path.join(work, "view.qcow2");
  const flat = path.join(work, "view.raw");
  fs.copyFileSync(overlay, view);
  try {
    await run("qemu-img", ["rebase", "-u", "-b", base.path, "-F", base.format, view]);
    const qcow2Consistent = await run("qemu-img", ["check", view]).then(
      () => true,
      () => false,
    );
    await run("qemu-img", ["convert", "-O", "raw", view, flat]);
    const { stdout } = await run("dumpe2fs", ["-h", flat]);
    const state = /^Filesystem state:\s*(.+)$/m.exec(stdout)?.[1]?.trim() ?? "unknown";
    const features = /^Filesystem features:\s*(.+)$/m.exec(stdout)?.[1] ?? "";
    const fsckCode = await run("e2fsck", ["-fn", flat]).then(
      () => 0,
      (error: { code?: number }) => error.code ?? -1,
    );
    return {
      qcow2Consistent,
      state,
      needsRecovery: /\bneeds_recovery\b/.test(features),
      fsckCode,
      file: await readFromImage(flat, guestPath),
    };
  } finally {
    fs.rmSync(view, { force: true });
    fs.rmSync(flat, { force: true });
  }
}

export function sha256File(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** Whether the process has `file` (the same inode, whatever its names) open. */
export function holdsOpen(pid: number, file: string): boolean {
  const { ino, dev } = fs.statSync(file);
  const fdDir = `/proc/${pid}/fd`;
  return fs.readdirSync(fdDir).some((fd) => {
    try {
      const stat = fs.statSync(path.join(fdDir, fd));
      return stat.ino === ino && stat.dev === dev;
    } catch {
      return false; // closed meanwhile
    }
  });
}

/** The QEMU process of a running domain of the test bed's daemon (libvirt's pid file). */
export function qemuPid(domain: string): number {
  return Number(fs.readFileSync(`/run/libvirt/qemu/${domain}.pid`, "utf8").trim());
}
