import { describe, expect, it } from 'vitest';
import type { Scenario } from '../../config/index.js';
import { StateNotOurs } from '../state.js';
import { namesOf, nodeAddress } from './index.js';
import { verifyDockerState } from './ownership.js';

const ctx = { stateDir: '/project/.swarm-molecule/docker', scenario: { name: 'docker' } as Scenario };
const options = { subnetPool: '10.215.0.0/16' };
const runId = 'a1b2c3';
const good = () => ({
  run: { runId, network: `smd-${runId}`, subnet: '10.215.4', connect: 'address' as const },
  nodes: [
    {
      name: 'manager-01',
      host: '10.215.4.11',
      port: 22,
      user: 'root',
      identityFile: '/project/.swarm-molecule/docker/ssh/id_ed25519',
      data: { index: 0, container: `smd-${runId}-manager-01`, volume: `smd-${runId}-manager-01-docker` },
    },
  ],
});
const check = (state: ReturnType<typeof good>) => () => verifyDockerState(ctx, options, state, namesOf, nodeAddress);

describe('the docker state names only what the driver made for the scenario', () => {
  it('accepts what the driver made', () => {
    expect(check(good())).not.toThrow();
  });

  it.each([
    ['another network', (s: ReturnType<typeof good>) => (s.run.network = 'bridge'), 'driverState.data.network'],
    ['a subnet outside the pool', (s: ReturnType<typeof good>) => (s.run.subnet = '192.168.1'), 'driverState.data.subnet'],
    ['a run id that is not one', (s: ReturnType<typeof good>) => (s.run.runId = '../x'), 'driverState.data.runId'],
    ['another container', (s: ReturnType<typeof good>) => (s.nodes[0]!.data.container = 'production-db'), 'driverState.nodes.0.data.container'],
    ['another volume', (s: ReturnType<typeof good>) => (s.nodes[0]!.data.volume = 'pgdata'), 'driverState.nodes.0.data.volume'],
    ['another address', (s: ReturnType<typeof good>) => (s.nodes[0]!.host = '192.0.2.1'), 'driverState.nodes.0.host'],
    ['another key', (s: ReturnType<typeof good>) => (s.nodes[0]!.identityFile = '/root/.ssh/id_ed25519'), 'driverState.nodes.0.identityFile'],
  ])('refuses %s, naming the field', (_, edit, field) => {
    const state = good();
    edit(state);
    expect(check(state)).toThrow(StateNotOurs);
    expect(check(state)).toThrow(new RegExp(`at "${field.replace(/\./g, '\\.')}"`));
  });
});

describe('a run on a network the scenario names (driver.options.network)', () => {
  const users = { ...options, network: 'team-net' };
  const onUsers = () => {
    const state = good();
    state.run.network = 'team-net';
    state.run.subnet = '172.30.0';
    state.nodes[0]!.host = '172.30.0.11';
    return state;
  };
  it('accepts that network and its subnet', () => {
    expect(() => verifyDockerState(ctx, users, onUsers(), namesOf, nodeAddress)).not.toThrow();
  });
  it('refuses it once the scenario no longer names it, and another network while it does', () => {
    expect(() => verifyDockerState(ctx, options, onUsers(), namesOf, nodeAddress)).toThrow(/at "driverState\.data\.network"/);
    const other = onUsers();
    other.run.network = 'prod-net';
    expect(() => verifyDockerState(ctx, users, other, namesOf, nodeAddress)).toThrow(StateNotOurs);
  });
});

