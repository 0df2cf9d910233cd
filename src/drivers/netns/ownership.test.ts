import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scenario } from '../../config/index.js';
import type { Lease, LeaseOwner } from '../host/leases.js';
import { startTimeOf } from '../host/processes.js';
import { StateNotOurs, type RunState } from '../state.js';
import { verifyNetnsState } from './ownership.js';

const root = mkdtempSync(join(tmpdir(), 'sm-ownership-'));
const dataDir = join(root, 'data');
const stateDir = join(root, 'project', '.swarm-molecule', 'default');
const ctx = { stateDir, scenario: { name: 'default' } as Scenario };
const options = { dataDir, subnetPool: '10.213.0.0/16', imageCacheDir: '/var/cache/swarm-molecule' };
const runId = 'a1b2c3';
const runDir = join(dataDir, runId);
const subnet = { base: '10.213.7', gateway: '10.213.7.1', prefixLength: 24 as const };
const owner: LeaseOwner = { driver: 'netns', stateDir, runId, runDir };
const ours: Lease[] = [{ subnet, owner }];

type State = Parameters<typeof verifyNetnsState>[2];

/** A state exactly as the driver makes it for one node `n1`. */
function made(): State {
  return {
    run: { runId, subnet: { ...subnet }, runDir },
    nodes: [
      {
        name: 'n1',
        host: '10.213.7.11',
        port: 22,
        user: 'root',
        identityFile: join(stateDir, 'ssh', 'id_ed25519'),
        data: { index: 0, netns: `sm-${runId}-n1`, veth: `smv-${runId}-0`, dir: join(runDir, 'n1'), cgroup: `/sm-${runId}-n1` },
      },
    ],
  };
}

function forged(change: (state: State) => void): State {
  const state = made();
  change(state);
  return state;
}

const check = (state: RunState<NonNullable<State['run']>, State['nodes'][number]['data']>, leases: Lease[] = ours) => () => verifyNetnsState(ctx, options, state, leases);

let sleeper: ChildProcess;

beforeAll(() => {
  mkdirSync(join(runDir, 'n1'), { recursive: true });
  sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
});

afterAll(() => {
  if (sleeper.pid !== undefined && sleeper.exitCode === null) process.kill(sleeper.pid, 'SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

describe('verifyNetnsState', () => {
  it('takes a state exactly as the driver made it, and one whose run the machine lost (no lease after a reboot)', () => {
    expect(check(made())).not.toThrow();
    expect(check(made(), [])).not.toThrow();
  });

  it('refuses a run directory outside the data root, naming the file, the field and reset', () => {
    const state = forged((s) => {
      s.run!.runDir = '/etc';
    });
    expect(check(state)).toThrow(StateNotOurs);
    expect(check(state)).toThrow(`The state file ${join(stateDir, 'state.json')} names something that swarm-molecule did not make for scenario "default" (at "driverState.data.runDir": "/etc" is not "${runDir}")`);
    let thrown: unknown;
    try {
      check(state)();
    } catch (error) {
      thrown = error;
    }
    expect((thrown as StateNotOurs).exitCode).toBe(2);
    expect((thrown as StateNotOurs).hint).toContain('swarm-molecule reset -s default');
  });

  it('refuses `..` in the run directory or the run id', () => {
    expect(check(forged((s) => { s.run!.runDir = `${dataDir}/../${runId}`; }))).toThrow(/at "driverState\.data\.runDir"/);
    expect(check(forged((s) => { s.run!.runId = '..'; s.run!.runDir = join(dataDir, '..'); }))).toThrow(/at "driverState\.data\.runDir": "\.\." is not a run id/);
  });

  it('refuses a run directory or node directory that is a symbolic link out of the data root', () => {
    const escapeId = 'dddddd';
    const outside = join(root, 'elsewhere');
    mkdirSync(outside, { recursive: true });
    symlinkSync(outside, join(dataDir, escapeId));
    const state = forged((s) => {
      s.run!.runId = escapeId;
      s.run!.runDir = join(dataDir, escapeId);
    });
    expect(check(state, [{ subnet, owner: { ...owner, runId: escapeId, runDir: join(dataDir, escapeId) } }])).toThrow(/at "driverState\.data\.runDir": .* is a symbolic link/);

    const nodeLink = join(runDir, 'n2');
    symlinkSync(outside, nodeLink);
    const node = forged((s) => {
      const n = s.nodes[0]!;
      n.name = 'n2';
      n.data = { ...n.data, netns: `sm-${runId}-n2`, cgroup: `/sm-${runId}-n2`, dir: nodeLink };
    });
    expect(check(node)).toThrow(/at "driverState\.nodes\.0\.data\.dir": .* is a symbolic link/);
  });

  it('refuses a node directory outside the run directory', () => {
    expect(check(forged((s) => { s.nodes[0]!.data.dir = join(dataDir, 'ffffff', 'n1'); }))).toThrow(/at "driverState\.nodes\.0\.data\.dir"/);
  });

  it('refuses the PID of a live process that is not a node of ours (and does not touch it)', () => {
    const pid = sleeper.pid!;
    const startTime = startTimeOf(pid)!;
    const state = forged((s) => { s.nodes[0]!.data.process = { pid, startTime }; });
    expect(check(state)).toThrow(new RegExp(`at "driverState\\.nodes\\.0\\.data\\.process": PID ${pid} is a process that swarm-molecule did not start`));
    expect(startTimeOf(pid)).toBe(startTime);
    // A PID whose process has another start time is not ours either, but is never signalled: taken.
    expect(check(forged((s) => { s.nodes[0]!.data.process = { pid, startTime: '1' }; }))).not.toThrow();
  });

  it('refuses a subnet outside the pool, leased to another scenario, or a run another scenario leases', () => {
    expect(check(forged((s) => { s.run!.subnet = { base: '192.168.1', gateway: '192.168.1.1', prefixLength: 24 }; }))).toThrow(/at "driverState\.data\.subnet": 192\.168\.1\.0\/24 is not inside the subnet pool 10\.213\.0\.0\/16/);
    const foreign: Lease[] = [{ subnet, owner: { ...owner, stateDir: '/victim/.swarm-molecule/default' } }];
    expect(check(made(), foreign)).toThrow(/at "driverState\.data\.subnet": 10\.213\.7\.0\/24 is leased to another run/);
    expect(check(made(), [{ subnet, owner: undefined }])).toThrow(/leased to another run/);
    // The subnet is free, but the run id is the victim's.
    const victimRun: Lease[] = [{ subnet: { ...subnet, base: '10.213.9' }, owner: { ...owner, stateDir: '/victim/.swarm-molecule/default' } }];
    expect(check(made(), victimRun)).toThrow(/at "driverState\.data\.subnet": run a1b2c3 is another scenario's/);
    expect(check(forged((s) => { s.run!.subnet.gateway = '10.213.7.254'; }))).toThrow(/at "driverState\.data\.subnet\.gateway"/);
  });

  it('refuses names without our prefix and run id, and a node reached elsewhere', () => {
    const field = (change: (n: State['nodes'][number]) => void) => check(forged((s) => change(s.nodes[0]!)));
    expect(field((n) => { n.data.netns = 'victim'; })).toThrow(/at "driverState\.nodes\.0\.data\.netns": "victim" is not "sm-a1b2c3-n1"/);
    expect(field((n) => { n.data.netns = 'sm-ffffff-n1'; })).toThrow(/data\.netns/);
    expect(field((n) => { n.data.veth = 'eth0'; })).toThrow(/data\.veth/);
    expect(field((n) => { n.data.cgroup = '/system.slice'; })).toThrow(/data\.cgroup/);
    expect(field((n) => { n.name = '../n1'; })).toThrow(/at "driverState\.nodes\.0\.name"/);
    expect(field((n) => { n.host = '203.0.113.5'; })).toThrow(/nodes\.0\.host/);
    expect(field((n) => { n.identityFile = '/etc/shadow'; })).toThrow(/nodes\.0\.identityFile/);
    // The node's root is mounted from its rootfs: only a node image of our cache.
    expect(field((n) => { n.data.rootfs = '/var/cache/swarm-molecule/node-122de2d2c56d/rootfs'; })).not.toThrow();
    expect(field((n) => { n.data.rootfs = '/'; })).toThrow(/at "driverState\.nodes\.0\.data\.rootfs"/);
    expect(field((n) => { n.data.rootfs = '/var/cache/swarm-molecule/node-1/../../../../etc'; })).toThrow(/data\.rootfs/);
  });
});
