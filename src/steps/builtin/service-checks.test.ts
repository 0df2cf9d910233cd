import { describe, expect, it } from 'vitest';
import type { Host, VerifyContext } from '../api.js';
import { followUpdate } from './service-checks.js';
import { runningSummary, type TaskRow } from './services.js';

const task = (slot: number, image: string, state: string, desired = 'Running') =>
  JSON.stringify({ ID: `t${slot}${image}`, Name: `app.${slot}`, Image: image, Node: 'n1', DesiredState: desired, CurrentState: `${state} 1 second ago`, Error: '' });

describe('runningSummary', () => {
  const row = (image: string, state: string): TaskRow => ({ id: '', name: 'app.1', image, node: 'n1', desiredState: 'Running', state, currentState: state, error: '' });
  it('counts the running tasks of the wanted image, then the others by image', () => {
    const tasks = [row('app:v2@sha256:1', 'Running'), row('app:v1', 'Running'), row('app:v2', 'Preparing')];
    expect(runningSummary(tasks, { replicas: 3, image: 'app:v2' })).toBe('1/3 tasks of app:v2 running, 1 of app:v1');
    expect(runningSummary(tasks)).toBe('1 task of app:v2 running, 1 task of app:v1 running');
    expect(runningSummary([])).toBe('no task running');
  });
});

describe('followUpdate', () => {
  it('shows on the live line the timeout and each new observed value as the update goes', async () => {
    // Three samples: updating with one task replaced, two, then completed.
    const samples = [
      { status: { State: 'updating', StartedAt: 'b' }, tasks: [task(1, 'app:v2', 'Running'), task(2, 'app:v1', 'Running'), task(3, 'app:v1', 'Running')] },
      { status: { State: 'updating', StartedAt: 'b' }, tasks: [task(1, 'app:v2', 'Running'), task(2, 'app:v2', 'Running'), task(3, 'app:v1', 'Running')] },
      { status: { State: 'completed', StartedAt: 'b' }, tasks: [task(1, 'app:v2', 'Running'), task(2, 'app:v2', 'Running'), task(3, 'app:v2', 'Running')] },
    ];
    let inspected = 0;
    let listed = 0;
    const manager = {
      name: 'n1',
      // A node that does not forward its Docker socket: the CLI answers.
      engine: () => Promise.resolve(undefined),
      docker: (args: readonly string[]) =>
        Promise.resolve(args[1] === 'inspect' ? JSON.stringify(samples[Math.min(inspected++, 2)]?.status) : (samples[Math.min(listed++, 2)]?.tasks.join('\n') ?? '')),
    } as unknown as Host;
    const shown: { description: string; progress?: { timeout?: number; observed?: string } }[] = [];
    const ctx = {
      signal: new AbortController().signal,
      waiting: (description: string, progress?: { timeout?: number; observed?: string }) => shown.push({ description, ...(progress ? { progress } : {}) }),
    } as unknown as VerifyContext<unknown>;
    const followed = await followUpdate(ctx, manager, 'app', {
      previous: { State: 'completed', StartedAt: 'a' },
      timeoutMs: 120_000,
      intervalMs: 1,
      what: 'the rolling update of app to app:v2',
      expected: 'completed',
      want: { replicas: 3, image: 'app:v2' },
    });
    expect(followed.status.State).toBe('completed');
    expect(shown.map((s) => s.progress?.observed)).toEqual([
      undefined,
      '1/3 tasks of app:v2 running, 2 of app:v1 · updating',
      '2/3 tasks of app:v2 running, 1 of app:v1 · updating',
      '3/3 tasks of app:v2 running · completed',
    ]);
    for (const s of shown) expect(s).toMatchObject({ description: 'the rolling update of app to app:v2', progress: { timeout: 120_000 } });
  });
});
