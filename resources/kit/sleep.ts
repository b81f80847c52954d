/**
 * Waits `ms` milliseconds: between polls, and before trying again. Through the global setTimeout,
 * so that tests with Jest's fake timers control it.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
