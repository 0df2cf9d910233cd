import { describe, expect, it } from 'vitest';
import { Interrupted } from '../errors.js';
import { AssertionFailed } from './assert.js';
import { eventually } from './eventually.js';

describe('eventually', () => {
  it('returns as soon as the check holds', async () => {
    let tries = 0;
    const value = await eventually(
      async () => {
        tries++;
        if (tries < 3) throw new Error('not yet');
        return 'done';
      },
      { interval: 1, timeout: 1000 },
    );
    expect(value).toBe('done');
    expect(tries).toBe(3);
  });

  it('fails on timeout with the last error and the last observed value', async () => {
    const error = await eventually(
      async (observe) => {
        observe('manager-02  Down  Unreachable');
        throw new Error('no leader yet');
      },
      { interval: 5, timeout: 30, description: 'a new leader' },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AssertionFailed);
    expect((error as AssertionFailed).message).toMatch(/waiting for a new leader: no leader yet/);
    expect((error as AssertionFailed).observed).toBe('manager-02  Down  Unreachable');
  });

  it('stops when the run is interrupted', async () => {
    const controller = new AbortController();
    controller.abort('SIGINT');
    await expect(eventually(async () => Promise.reject(new Error('x')), { signal: controller.signal })).rejects.toBeInstanceOf(Interrupted);
  });
});
