import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `check` with a bounded back-off (10 ms doubling to 250 ms) until it returns a value
 * other than undefined/false, or fails after timeoutMs with the last state described.
 */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 250);
  }
}
