import { describe, expect, it } from 'vitest';
import { classifyWrite, largestMinority, smallestMajority } from './chaos.js';
import { endStateProblems } from './partition-worker.js';
import type { TaskRow } from './services.js';

describe('classifyWrite', () => {
  it('tells an accepted write, Swarm\'s no-quorum refusal, and anything else apart', () => {
    expect(classifyWrite(0, '')).toEqual({ kind: 'accepted' });
    const noLeader = "Error response from daemon: rpc error: code = Unknown desc = The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.\n";
    expect(classifyWrite(1, noLeader)).toEqual({ kind: 'no-quorum', stderr: noLeader.trim() });
    expect(classifyWrite(1, 'Error response from daemon: rpc error: code = DeadlineExceeded desc = context deadline exceeded')).toEqual({
      kind: 'other',
      text: 'Error response from daemon: rpc error: code = DeadlineExceeded desc = context deadline exceeded',
    });
    expect(classifyWrite(124, 'killed', true)).toEqual({ kind: 'other', text: 'no answer (the command timed out)' });
  });
});

describe('minority and majority of managers', () => {
  it('cuts 1 of 3, 2 of 5, 3 of 7 and stops 2 of 3, 3 of 5, 4 of 7', () => {
    expect([3, 4, 5, 7].map(largestMinority)).toEqual([1, 1, 2, 3]);
    expect([3, 4, 5, 7].map(smallestMajority)).toEqual([2, 3, 3, 4]);
  });
});

const task = (id: string, node: string, desiredState: string, state: string): TaskRow => ({
  id,
  name: `svc.${id}`,
  image: 'web:v1',
  node,
  desiredState,
  state,
  currentState: `${state} 3 seconds ago`,
  error: '',
});

describe('endStateProblems (partition-worker)', () => {
  it('passes when the old tasks are Shutdown and as many run as there are replicas', () => {
    expect(endStateProblems([task('a', 'w1', 'Shutdown', 'Shutdown'), task('b', 'w2', 'Running', 'Running'), task('c', 'w2', 'Running', 'Running')], 2, ['a'])).toEqual([]);
  });

  it('names an old task still running beside its replacement (a duplicate)', () => {
    expect(endStateProblems([task('a', 'w1', 'Shutdown', 'Running'), task('b', 'w2', 'Running', 'Running')], 1, ['a'])).toEqual([
      '2 tasks Running, 1 wanted',
      'old task svc.a (a) on w1 is Running 3 seconds ago',
    ]);
  });
});
