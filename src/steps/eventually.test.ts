import { describe, expect, it } from 'vitest';
import { InfraError, Interrupted } from '../errors.js';
import { CommandTimedOut, TransportError } from '../transport/index.js';
import { AssertionFailed } from './assert.js';
import { DockerUnavailable, NodeDiskFull } from './errors.js';
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

describe('eventually: failures waiting cannot fix', () => {
  it.each([
    ['a lost SSH connection', () => new TransportError('The SSH connection to n1 closed while running: docker info')],
    ['a full disk', () => new NodeDiskFull('The disk of n1 is full')],
  ])('%s is thrown at the first sample as an infrastructure error, not retried into a failed check', async (_case, make) => {
    let samples = 0;
    const error = await eventually(
      async () => {
        samples++;
        throw make();
      },
      { interval: 10, timeout: 2000 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfraError);
    // One sample, not samples every 10 ms until the timeout.
    expect(samples).toBe(1);
  });

  it.each([
    ['a Docker daemon that does not answer (it may be restarting)', () => new DockerUnavailable('dockerd on n1 does not answer')],
    ['a command that timed out (a busy machine)', () => new CommandTimedOut('Command timed out after 10 s on n1: docker node ls')],
  ])('%s is waited for', async (_case, make) => {
    let samples = 0;
    const value = await eventually(
      async () => {
        if (++samples < 3) throw make();
        return 'up';
      },
      { interval: 1, timeout: 1000 },
    );
    expect(value).toBe('up');
  });
});
