import { describe, expect, it } from 'vitest';
import { InfraError } from '../errors.js';
import { CommandTimedOut, type CommandResult } from '../transport/index.js';
import { waitForDockerd } from './ready.js';

const answer = (exitCode: number, stderr = ''): CommandResult => ({ argv: ['docker', 'info'], stdout: exitCode === 0 ? 'ID\n' : '', stderr, exitCode, durationMs: 1 });
const options = { signal: new AbortController().signal, hint: 'see dockerd.log', intervalMs: 1 };

/**
 * A dockerd on a busy machine: it needs `busyMs` to answer, so a probe whose
 * timeout is shorter times out (after waiting it out) and a longer one gets the
 * answer. Decided by the probe's timeout, not the clock: a timer that fires late
 * on a loaded machine changes no outcome.
 */
function slowDockerd(busyMs: number) {
  const timeouts: number[] = [];
  const probe = async (timeoutMs: number) => {
    timeouts.push(timeoutMs);
    if (busyMs > timeoutMs) {
      await new Promise((r) => setTimeout(r, timeoutMs));
      throw new CommandTimedOut(`Command timed out after ${timeoutMs} ms on n1: docker info`);
    }
    await new Promise((r) => setTimeout(r, busyMs));
    return answer(0);
  };
  return { probe, timeouts };
}

describe('waitForDockerd', () => {
  it('a probe that times out is asked again with a longer timeout until the daemon answers', async () => {
    const { probe, timeouts } = slowDockerd(250);
    await waitForDockerd('n1', probe, { ...options, timeoutMs: 60_000, firstProbeTimeoutMs: 40 });
    // The fault happened: three probes timed out before the fourth, long enough, got the answer.
    expect(timeouts).toEqual([40, 80, 160, 320]);
  });

  it('never throws at the first probe timeout; fails only at the deadline, with the last answer', async () => {
    const { probe, timeouts } = slowDockerd(60_000);
    const started = Date.now();
    const error = await waitForDockerd('n1', probe, { ...options, timeoutMs: 2000, firstProbeTimeoutMs: 50 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1980);
    expect(timeouts.length).toBeGreaterThan(1);
    // No probe ran past the deadline: the last one got only what was left.
    expect(timeouts.reduce((sum, t) => sum + t, 0)).toBeLessThanOrEqual(2000);
    expect(error).toBeInstanceOf(InfraError);
    expect((error as Error).message).toMatch(/dockerd on n1 did not answer within 2 s; last answer: no answer from dockerd/);
  });

  it('a daemon that answers with an error is asked until the deadline, and the error is in the message', async () => {
    const error = await waitForDockerd('n1', async () => answer(1, 'Cannot connect to the Docker daemon'), { ...options, timeoutMs: 100 }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/last answer: exit 1: Cannot connect to the Docker daemon/);
  });
});
