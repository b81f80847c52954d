/**
 * Before each integration test file: is the shared daemon still answering? A daemon that stalled
 * under the whole suite (libvirt 11.3 did once in CI, with a relabelling lock held) failed every
 * test after it, each after a 30 s connect deadline. Here it is asked once; when it stays silent,
 * `scripts/testbed.sh revive` prints what it was doing, kills it and starts it again, and the event
 * goes to the run's report (`VIRTWIRE_TESTBED_EVENTS`, printed by scripts/summarize-jest.js). The
 * tests that ran while it hung have failed already; the revival only stops the echo.
 */
import { execFile } from "node:child_process";
import { appendFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { Libvirt } from "../../rpc";

/** How long the daemon has to open a connection and answer one call. */
const ANSWER_WITHIN_MS = 30_000;

async function answers(uri: string): Promise<boolean> {
  let lv: Libvirt | undefined;
  try {
    lv = await Libvirt.connect(uri, { timeoutMs: ANSWER_WITHIN_MS, keepalive: false });
    await lv.ConnectGetLibVersion({ timeoutMs: ANSWER_WITHIN_MS });
    return true;
  } catch {
    return false;
  } finally {
    await lv?.close().catch(() => undefined);
  }
}

/** `scripts/testbed.sh revive`'s exit status when the daemon answered it: nothing was done. */
const ANSWERED = 3;

/** What `scripts/testbed.sh revive` said, and whether it found the daemon answering after all. */
function revive(daemon: string, rootDir: string): Promise<{ report: string; answered: boolean }> {
  const script = join(rootDir, "scripts", "testbed.sh");
  return new Promise((resolve) => {
    execFile("bash", [script, "revive", daemon], { encoding: "utf8" }, (error, stdout, stderr) => {
      const answered = error?.code === ANSWERED;
      const failed = error && !answered ? `(revive exited with ${error.code})\n` : "";
      resolve({ report: `${stdout}${stderr}${failed}`, answered });
    });
  });
}

/**
 * Asks the daemon of `label` at `uri`; when it does not answer, revives test bed daemon `daemon`
 * ("9" or "11") and records what happened before `testPath` ran.
 */
export async function keepDaemonAnswering(
  { label, daemon, uri }: { label: string; daemon: string; uri: string },
  testPath: string,
  rootDir: string,
): Promise<void> {
  const time = new Date().toISOString().slice(11, 19);
  if (await answers(uri)) return;
  const { report, answered } = await revive(daemon, rootDir);
  // Answering the second time: slow for a while, or revived meanwhile by the other test worker.
  const outcome = answered ? "; it answered when asked again, and was left alone" : "";
  const event =
    `${time} ${label} did not answer within ${ANSWER_WITHIN_MS / 1000} s before ` +
    `${basename(testPath)}${outcome}:\n` +
    report
      .trimEnd()
      .split("\n")
      .map((line) => `  ${line}`)
      .join("\n");
  process.stderr.write(`${event}\n`);
  const events = process.env.VIRTWIRE_TESTBED_EVENTS;
  if (events) await appendFile(events, `${event}\n`);
}
