/**
 * Upload progress for the Pulumi user: status lines on the volume's row (ephemeral, so they do not
 * pile up in Diagnostics) when the upload starts, each time another 10 % is done (at most one per
 * second), or every 5 seconds when the total is unknown or progress is slow; and one summary line,
 * kept.
 */
import { formatSize } from "../kit/units";

const MIN_INTERVAL_MS = 1_000;
const MAX_INTERVAL_MS = 5_000;

export interface ProgressLines {
  /** Progress, shown while the upload runs (ResourceContext.status). */
  status(line: string): void;
  /** The summary, kept (ResourceContext.log). */
  log(line: string): void;
}

export interface ProgressReporter {
  /** Bytes done so far. */
  update(bytes: number): void;
  /** The summary line, with data and hole bytes as the upload counted them. */
  finish(result: { bytes: number; dataBytes: number; holeBytes: number }): void;
}

export function progressReporter(
  lines: ProgressLines,
  label: string,
  total: number | undefined,
  now: () => number = Date.now,
): ProgressReporter {
  const started = now();
  let lastLine = started;
  let lastTenth = 0;
  lines.status(
    `virtwire: uploading ${label}: ${total !== undefined ? `0 % of ${formatSize(total)}` : "size not known yet"}`,
  );
  return {
    update(bytes) {
      const time = now();
      const tenth = total ? Math.floor((bytes / total) * 10) : 0;
      const due =
        (tenth > lastTenth && time - lastLine >= MIN_INTERVAL_MS) ||
        time - lastLine >= MAX_INTERVAL_MS;
      if (!due) return;
      lastLine = time;
      lastTenth = tenth;
      const share = total
        ? `${Math.floor((bytes / total) * 100)} % (${formatSize(bytes)} of ${formatSize(total)})`
        : formatSize(bytes);
      lines.status(`virtwire: uploading ${label}: ${share}, ${rate(bytes, time - started)}`);
    },
    finish({ bytes, dataBytes, holeBytes }) {
      const elapsed = now() - started;
      lines.log(
        `virtwire: uploaded ${label}: ${formatSize(bytes)} in ${(elapsed / 1000).toFixed(1)} s (${formatSize(dataBytes)} of data, ${formatSize(holeBytes)} sent as holes), ${rate(bytes, elapsed)}`,
      );
    },
  };
}

function rate(bytes: number, elapsedMs: number): string {
  if (elapsedMs <= 0) return "—";
  return `${formatSize(Math.round((bytes / elapsedMs) * 1000))}/s`;
}
