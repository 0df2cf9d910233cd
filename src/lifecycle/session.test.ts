import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Scenario } from '../config/index.js';
import type { Driver, DriverState, PartitionSides } from '../drivers/index.js';
import { Session } from './session.js';
import { emptyState, StateStore } from './state.js';

const platforms = ['m1', 'w1', 'w2'].map((name) => ({ name, groups: [name === 'm1' ? 'swarm-leader' : 'swarm-worker'], labels: {} }));
const scenario = { name: 'default', driver: { name: 'netns', options: {} }, platforms, converge: [], verify: [], lint: { rules: {} }, source: { duplicateKeys: [] } } as unknown as Scenario;
const nodes: DriverState = { nodes: platforms.map((p, i) => ({ name: p.name, host: `10.0.0.${11 + i}`, port: 22, user: 'root', identityFile: '/k', data: {} })), data: {} };

/** A driver that records the partitions it is asked for in its state, as a real one does. */
function partitioningDriver(calls: string[]): Driver {
  return {
    name: 'netns',
    sanityCheck: async () => [],
    create: async (_c, _p) => nodes,
    destroy: async () => undefined,
    status: async () => new Map(),
    stop: async (_c, s) => s,
    start: async (_c, s) => s,
    partition: async (_c, s, sides: PartitionSides) => {
      calls.push(`partition ${sides[0].join(',')} | ${sides[1].join(',')}`);
      return { ...s, data: { ...s.data, partition: sides } };
    },
    heal: async (_c, s) => {
      calls.push('heal');
      return { ...s, data: {} };
    },
  };
}

function session(driver: Driver): { session: Session; store: StateStore } {
  const store = new StateStore(mkdtempSync(join(tmpdir(), 'sm-session-')), 'default');
  const state = { ...emptyState('default', 'netns'), created: true, driverState: structuredClone(nodes) };
  return { session: new Session(scenario, driver, store, {}, new AbortController().signal, state), store };
}

describe('Session node control: partitions', () => {
  it('isolates a node against every other node, records each change in the state, and heals', async () => {
    const calls: string[] = [];
    const { session: s, store } = session(partitioningDriver(calls));
    const control = s.stepInput().nodes;
    await control.isolate('w1');
    expect((await store.read())?.driverState?.data).toEqual({ partition: [['w1'], ['m1', 'w2']] });
    await control.partition(['m1'], ['w1']);
    await control.heal();
    expect(calls).toEqual(['partition w1 | m1,w2', 'partition m1 | w1', 'heal']);
    expect((await store.read())?.driverState?.data).toEqual({});
    s.close();
  });

  it('refuses a partition on a driver without the capability (syntax refuses the step before that)', async () => {
    const plain: Driver = partitioningDriver([]);
    delete plain.partition;
    delete plain.heal;
    const { session: s } = session(plain);
    await expect(s.stepInput().nodes.isolate('w1')).rejects.toThrow('The netns driver cannot partition the node network.');
    s.close();
  });
});
