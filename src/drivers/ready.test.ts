import { describe, expect, it } from 'vitest';
import { InfraError } from '../errors.js';
import { CommandTimedOut, type CommandResult } from '../transport/index.js';
import { waitForDockerd } from './ready.js';

const answer = (exitCode: number, stderr = ''): CommandResult => ({ argv: ['docker', 'info'], stdout: exitCode === 0 ? 'ID\n' : '', stderr, exitCode, durationMs: 1 });
const options = { signal: new AbortController().signal, hint: 'see dockerd.log', intervalMs: 1 };

/** A probe that takes `busyMs` before answering: a dockerd on a busy machine. */
function slowDockerd(busyMs: number) {
  const timeouts: number[] = [];
  const started = Date.now();
  const probe = async (timeoutMs: number) => {
    timeouts.push(timeoutMs);
    const left = busyMs - (Date.now() - started);
    if (left > timeoutMs) {
      await new Promise((r) => setTimeout(r, timeoutMs));
      throw new CommandTimedOut(`Command timed out after ${timeoutMs} ms on n1: docker info`);
    }
    await new Promise((r) => setTimeout(r, Math.max(0, left)));
    return answer(0);
  };
  return { probe, timeouts };
}

describe('waitForDockerd', () => {
  it('a probe that times out is asked again with a longer timeout until the daemon answers', async () => {
    const { probe, timeouts } = slowDockerd(250);
    await waitForDockerd('n1', probe, { ...options, timeoutMs: 2000, firstProbeTimeoutMs: 40 });
    // The fault happened: at least two probes timed out before the answer.
    expect(timeouts.length).toBeGreaterThanOrEqual(3);
    expect(timeouts.slice(0, 3)).toEqual([40, 80, 160]);
  });

  it('never throws at the first probe timeout; fails only at the deadline, with the last answer', async () => {
    const { probe, timeouts } = slowDockerd(60_000);
    const started = Date.now();
    const error = await waitForDockerd('n1', probe, { ...options, timeoutMs: 500, firstProbeTimeoutMs: 50 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(480);
    expect(timeouts.length).toBeGreaterThan(1);
    // The last probe got only what was left, not past the deadline.
    expect(timeouts.at(-1)).toBeLessThan(400);
    expect(error).toBeInstanceOf(InfraError);
    expect((error as Error).message).toMatch(/dockerd on n1 did not answer within 1 s; last answer: no answer from dockerd/);
  });

  it('a daemon that answers with an error is asked until the deadline, and the error is in the message', async () => {
    const error = await waitForDockerd('n1', async () => answer(1, 'Cannot connect to the Docker daemon'), { ...options, timeoutMs: 100 }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/last answer: exit 1: Cannot connect to the Docker daemon/);
  });
});
