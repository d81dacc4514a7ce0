import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Calls `probe` until it returns something truthy and returns that, for state that changes on
 * its own (a child process, a scheduled job, a server reloading its config). Past `timeoutMs` it
 * throws, naming `what` it waited for; a function there is asked at that moment, so the message
 * can say what was seen instead.
 */
export async function pollUntil<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  what: string | (() => string),
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 20 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    }
    await sleep(intervalMs);
  }
}
