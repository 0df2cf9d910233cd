import { describe, expect, it } from 'vitest';
import type { Scenario } from '../config/index.js';
import { electionScenario, sampleOf } from './measure.js';

const scenario = {
  name: 'chaos',
  platforms: [
    { name: 'm1', groups: ['swarm-leader', 'swarm-manager'], labels: { zone: 'a' } },
    { name: 'm2', groups: ['swarm-manager'], labels: {} },
    { name: 'w1', groups: ['swarm-worker'], labels: { zone: 'b' } },
  ],
  verify: [{ section: 'verify', index: 0, step: 'swarm/node-roles', with: {} }],
} as unknown as Scenario;

describe('electionScenario', () => {
  it('makes a size of its own: N managers (the first initialises), the scenario\'s workers, the election step alone', () => {
    const five = electionScenario(scenario, 5, 3);
    expect(five.name).toBe('chaos-managers-5');
    expect(five.platforms.map((p) => `${p.name}:${p.groups.join('+')}`)).toEqual([
      'manager-01:swarm-leader+swarm-manager',
      'manager-02:swarm-manager',
      'manager-03:swarm-manager',
      'manager-04:swarm-manager',
      'manager-05:swarm-manager',
      'w1:swarm-worker',
    ]);
    expect(five.verify).toEqual([{ section: 'verify', index: 0, step: 'swarm/measure-election', with: { repeat: 3 } }]);
  });

  it('keeps the scenario\'s own cluster when no size is given', () => {
    const own = electionScenario(scenario, undefined, 2);
    expect(own.name).toBe('chaos');
    expect(own.platforms).toBe(scenario.platforms);
    expect(own.verify[0]?.step).toBe('swarm/measure-election');
  });
});

describe('sampleOf', () => {
  it('reads each round and the settings from the step\'s measurements', () => {
    const sample = sampleOf(3, {
      name: 'swarm/measure-election',
      index: 0,
      status: 'passed',
      log: [],
      durationMs: 1,
      measurements: [
        { name: 'raft ElectionTick', value: 10, unit: 'count' },
        { name: 'raft HeartbeatTick', value: 1, unit: 'count' },
        { name: 'dispatcher HeartbeatPeriod', value: 5000, unit: 'ms' },
        { name: 'election 1', value: 20_000, unit: 'ms' },
        { name: 'first write 1', value: 20_500, unit: 'ms' },
        { name: 'election 2', value: 19_000, unit: 'ms' },
        { name: 'first write 2', value: 19_400, unit: 'ms' },
        { name: 'rejoin time', value: 9_000, unit: 'ms' },
      ],
    });
    expect(sample).toEqual({ managers: 3, electionMs: [20_000, 19_000], firstWriteMs: [20_500, 19_400], settings: { electionTick: 10, heartbeatTick: 1, heartbeatPeriodMs: 5000 } });
  });
});
