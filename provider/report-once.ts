/**
 * Errors printed once. When a check, diff, read or delete throws, the dynamic-provider plugin of
 * @pulumi/pulumi (cmd/dynamic-provider/index.js) answers the engine with the error's message,
 * which the engine shows, and before that prints `${error}: ${error.stack}` to its stderr, which
 * the engine shows too: the same words twice, the second time with a stack trace of virtwire's
 * internals. (create and update answer without printing.) An error virtwire throws to the engine
 * goes through `reportOnce`, and that one stderr line of the plugin's is left out; every other
 * line, the plugin's own stack traces of unexpected errors included, is printed as before.
 */
const expected = new Set<string>();
let installed = false;

/** Keeps at most this many lines waiting (an error the plugin never printed is forgotten). */
const MAX_WAITING = 64;

/** `error`, whose stderr line from the plugin will be left out. */
export function reportOnce<T extends Error>(error: T): T {
  install();
  expected.add(pluginLine(error));
  if (expected.size > MAX_WAITING) expected.delete(expected.values().next().value!);
  return error;
}

/** What the plugin prints for an error thrown by check, diff, read or delete. */
export function pluginLine(error: Error): string {
  return `${error}: ${error.stack}`;
}

function install(): void {
  if (installed) return;
  installed = true;
  const print = console.error;
  console.error = (...args: unknown[]) => {
    if (args.length === 1 && typeof args[0] === "string" && expected.delete(args[0])) return;
    print.apply(console, args);
  };
}
