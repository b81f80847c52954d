/**
 * A plugin outlives the CLI that started it when the CLI is killed with SIGKILL: nothing tells
 * the plugin, and it keeps running, with the program it runs and that program's connections. So
 * the host watches its parent: when it is gone (the host was handed to another parent), it stops
 * what it runs and exits.
 */

/** Calls `stop` and exits once the parent process is gone; checked every `intervalMs`. */
export function exitWithParent(stop: () => void, intervalMs = 1000): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    stop();
    process.exit(1);
  }, intervalMs);
  // The watch alone never keeps the host alive.
  timer.unref();
}
