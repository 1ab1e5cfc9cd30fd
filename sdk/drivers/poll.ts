import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `condition` until it holds or `timeoutMs` passes: every millisecond at first, doubling
 * up to `maxDelayMs`, so a quick outcome costs almost nothing and a slow one few wake-ups.
 */
export async function waitUntil(condition: () => boolean, timeoutMs: number, maxDelayMs = 10): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; !condition(); delay = Math.min(delay * 2, maxDelayMs)) {
    if (Date.now() >= deadline) return false;
    await sleep(delay);
  }
  return true;
}
