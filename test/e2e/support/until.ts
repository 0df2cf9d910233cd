import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Wait until `condition` holds or `timeoutMs` has passed, looking every
 * `intervalMs`: how a test forces an interleaving (act once the other side is
 * there) instead of sleeping a fixed time a loaded machine may outlast. Returns
 * whether it holds at the end; the test asserts that itself.
 */
export async function until(condition: () => boolean, timeoutMs: number, intervalMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
  return true;
}
