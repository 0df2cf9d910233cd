import { setTimeout as sleep } from 'node:timers/promises';
import { InfraError, Interrupted, messageOf } from '../errors.js';
import type { EventuallyOptions } from './api.js';
import { AssertionFailed } from './assert.js';
import { CommandTimedOut } from '../transport/index.js';
import { DockerUnavailable } from './errors.js';

/**
 * A failure that waiting will not fix and that is not the code under test: the
 * SSH connection is lost or refused, the node's disk is full. Said at once as an
 * infrastructure error, never counted as a failed sample until the timeout.
 * A Docker daemon that does not answer (it may be restarting) and a command
 * that timed out (a busy machine) are waited for.
 */
function isInfrastructure(error: unknown): boolean {
  return error instanceof InfraError && !(error instanceof DockerUnavailable) && !(error instanceof CommandTimedOut);
}

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
  check: (observe: (value: unknown, summary?: string) => void) => Promise<T>,
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
      if (error instanceof Interrupted || isInfrastructure(error)) throw error;
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
