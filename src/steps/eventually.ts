import { setTimeout as sleep } from 'node:timers/promises';
import { Interrupted, messageOf } from '../errors.js';
import type { EventuallyOptions } from './api.js';
import { AssertionFailed } from './assert.js';

function show(value: unknown): string {
  if (value === undefined) return '(nothing observed)';
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

/**
 * Retry `check` until it returns without throwing. On timeout, fail with the
 * last error and the last value the check observed, so the report shows what
 * the cluster looked like, not just that it was wrong.
 */
export async function eventually<T>(
  check: (observe: (value: unknown) => void) => Promise<T>,
  options: EventuallyOptions & { signal?: AbortSignal } = {},
): Promise<T> {
  const timeout = options.timeout ?? 60_000;
  const interval = options.interval ?? 500;
  const deadline = performance.now() + timeout;
  let observed: unknown;
  const observe = (value: unknown) => {
    observed = value;
  };
  for (;;) {
    if (options.signal?.aborted) throw new Interrupted(String(options.signal.reason ?? 'signal'));
    let lastError: unknown;
    try {
      return await check(observe);
    } catch (error) {
      if (error instanceof Interrupted) throw error;
      lastError = error;
    }
    if (performance.now() + interval > deadline) {
      const what = options.description ?? 'the check to hold';
      const expected = lastError instanceof AssertionFailed ? lastError.expected : messageOf(lastError);
      throw new AssertionFailed(`Timed out after ${(timeout / 1000).toFixed(timeout < 10_000 ? 1 : 0)} s waiting for ${what}: ${messageOf(lastError)}`, {
        expected,
        observed: show(observed ?? (lastError instanceof AssertionFailed ? lastError.observed : undefined)),
      });
    }
    await sleep(interval, undefined, options.signal ? { signal: options.signal } : undefined).catch(() => undefined);
  }
}
