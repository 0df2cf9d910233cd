import { describe, expect, it } from 'vitest';
import type { NodeRow } from './node-list.js';
import { rejoinProblems } from './restore.js';

const row = (Hostname: string, Status: string, ManagerStatus = ''): NodeRow => ({ ID: Hostname, Hostname, Status, Availability: 'Active', ManagerStatus, EngineVersion: '20.10.24' });

describe('rejoinProblems', () => {
  const cluster = [row('m1', 'Ready', 'Reachable'), row('m2', 'Ready', 'Leader'), row('m3', 'Ready', 'Reachable'), row('w1', 'Ready')];

  it('accepts a restarted manager that is Reachable (or Leader again) and a Ready worker', () => {
    expect(rejoinProblems(cluster, [{ name: 'm1', manager: true }, { name: 'w1', manager: false }])).toEqual([]);
    expect(rejoinProblems(cluster, [{ name: 'm2', manager: true }])).toEqual([]);
  });

  it('says what is still wrong', () => {
    const rows = [row('m1', 'Down', 'Unreachable'), row('m2', 'Ready', 'Leader'), row('w1', 'Unknown')];
    expect(rejoinProblems(rows, [{ name: 'm1', manager: true }, { name: 'w1', manager: false }, { name: 'w2', manager: false }])).toEqual([
      'm1 is Down',
      'm1 is Unreachable, not a Reachable manager',
      'w1 is Unknown',
      'w2 is not in the swarm',
    ]);
    expect(rejoinProblems([row('m1', 'Ready', 'Reachable')], [{ name: 'm1', manager: true }])).toEqual(['0 nodes are Leader']);
  });
});
