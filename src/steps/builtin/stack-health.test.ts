import { describe, expect, it } from 'vitest';
import { failingTask, lastErrors, readiness, restarts } from './stack-health.js';
import type { TaskRow } from './services.js';

const task = (id: string, name: string, state: string, desiredState = 'Running', error = ''): TaskRow => ({
  id,
  name,
  image: 'web:v1',
  node: 'w1',
  desiredState,
  state: state.split(' ')[0] ?? '',
  currentState: state,
  error,
});
const replicated = (replicas: number, healthcheck = false) => ({
  Mode: { Replicated: { Replicas: replicas } },
  TaskTemplate: { ContainerSpec: { Image: 'web:v1', ...(healthcheck ? { Healthcheck: { Test: ['CMD', 'true'] } } : {}) } },
});

describe('readiness', () => {
  it('is ready when every wanted task runs, whatever the history of failed ones', () => {
    const tasks = [task('a', 'demo_web.1', 'Running 5 seconds ago'), task('b', 'demo_web.2', 'Running 4 seconds ago'), task('c', 'demo_web.1', 'Failed 9 seconds ago', 'Shutdown', 'boom')];
    expect(readiness('demo_web', replicated(2), tasks)).toEqual({ service: 'demo_web', desired: 2, running: 2, healthcheck: false });
  });

  it('says which tasks are not Running and that health counts where there is a healthcheck', () => {
    const tasks = [task('a', 'demo_web.1', 'Running 5 seconds ago'), task('b', 'demo_web.2', 'Starting 2 seconds ago')];
    expect(readiness('demo_web', replicated(2, true), tasks).problem).toBe('1/2 Running and healthy: demo_web.2 Starting 2 seconds ago');
  });

  it('takes the tasks Swarm wants running as the desired count of a global service, and fails one with none', () => {
    const global = { Mode: { Global: {} }, TaskTemplate: { ContainerSpec: {} } };
    expect(readiness('g', global, [task('a', 'g.x', 'Running 1 second ago')]).problem).toBeUndefined();
    expect(readiness('g', global, []).problem).toBe('global service with no task (no eligible node?)');
  });
});

describe('failure details', () => {
  const history = [task('new', 'demo_web.1', 'Starting 1 second ago'), task('old', 'demo_web.1', 'Failed 5 seconds ago', 'Shutdown', 'task: non-zero exit (137): dockerexec: unhealthy container')];

  it('picks the newest failed task for its logs, and lists each error once', () => {
    expect(failingTask(history)?.id).toBe('old');
    expect(lastErrors([...history, { ...history[1], id: 'older' } as TaskRow])).toEqual(['demo_web.1 on w1: task: non-zero exit (137): dockerexec: unhealthy container']);
  });

  it('counts a task that stopped or a new one that started during the stable period as a restart', () => {
    const first = new Set(['a', 'b']);
    expect(restarts(first, [task('a', 's.1', 'Running 9 seconds ago'), task('b', 's.2', 'Running 9 seconds ago')])).toEqual([]);
    expect(restarts(first, [task('a', 's.1', 'Running 9 seconds ago'), task('c', 's.2', 'Running 1 second ago'), task('b', 's.2', 'Failed 2 seconds ago', 'Shutdown', 'exit 1')])).toEqual([
      's.2 (b) stopped: Failed 2 seconds ago (exit 1)',
      's.2 (c) started on w1',
    ]);
  });
});
