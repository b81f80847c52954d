/**
 * A daemon's request tried again while it fails in a way known to pass (a race or a flaky tool on
 * the host, never the user's input): up to `tries` times in all, `pauseMs` apart. The last error,
 * or the first that `passes` does not know, goes on as it is.
 */
import { sleep } from "./sleep";

export async function tryAgainWhile<T>(
  passes: (error: unknown) => boolean,
  tries: number,
  pauseMs: number,
  request: () => Promise<T>,
): Promise<T> {
  for (let tried = 1; ; tried++) {
    try {
      return await request();
    } catch (error) {
      if (tried >= tries || !passes(error)) throw error;
      await sleep(pauseMs);
    }
  }
}
