import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Scenario } from '../../config/index.js';
import { StateNotOurs } from '../state.js';
import { verifyVagrantState } from './ownership.js';
import { planDaemon } from './provider-daemon.js';

const stateDir = '/p/.swarm-molecule/default';
const ctx = { stateDir, scenario: { name: 'default' } as Scenario };
const options = { dataDir: '/var/lib/sm-vagrant', subnetPool: '10.214.0.0/16' };
const made = { dir: resolve(stateDir, 'vagrant'), vagrantHome: resolve(stateDir, 'vagrant', 'home'), vagrantfile: '/opt/swarm-molecule/Vagrantfile' };
const subnet = { base: '10.214.3', gateway: '10.214.3.1', prefixLength: 24 as const };
const runId = 'c0ffee';
const leases = [{ subnet, owner: { driver: 'vagrant', stateDir, runId, runDir: join(options.dataDir, runId) } }];

function state() {
  return {
    run: { runId, provider: 'docker' as const, ...made, daemon: planDaemon(runId, subnet, options.dataDir) },
    nodes: [{ name: 'n1', host: '10.214.3.11', port: 22, user: 'root', identityFile: resolve(stateDir, 'ssh', 'id_ed25519'), data: { machine: 'n1' } }],
  };
}

const check = (s: ReturnType<typeof state>, l = leases) => () => verifyVagrantState(ctx, options, made, s, l);

describe('verifyVagrantState', () => {
  it('takes what the driver made', () => {
    expect(check(state())).not.toThrow();
  });

  it('refuses a forged project, home, daemon directory, names, subnet or machine', () => {
    const forged = (change: (s: ReturnType<typeof state>) => void) => {
      const s = state();
      change(s);
      return check(s);
    };
    expect(forged((s) => { s.run.dir = '/etc'; })).toThrow(StateNotOurs);
    expect(forged((s) => { s.run.vagrantHome = '/root'; })).toThrow(/driverState\.data\.vagrantHome/);
    expect(forged((s) => { s.run.daemon.runDir = '/'; })).toThrow(/driverState\.data\.daemon\.runDir/);
    expect(forged((s) => { s.run.daemon.netns = 'sm-other'; })).toThrow(/driverState\.data\.daemon\.netns/);
    expect(forged((s) => { s.run.daemon.cgroup = '/'; })).toThrow(/driverState\.data\.daemon\.cgroup/);
    expect(forged((s) => { s.run.daemon.subnet = { ...subnet, base: '10.213.3', gateway: '10.213.3.1' }; })).toThrow(/not inside the subnet pool/);
    expect(forged((s) => { s.nodes[0]!.data.machine = 'other'; })).toThrow(/driverState\.nodes\.0\.data\.machine/);
    expect(check(state(), [{ subnet, owner: { ...leases[0]!.owner, stateDir: '/victim/.swarm-molecule/default' } }])).toThrow(/leased to another run/);
  });
});
