import { describe, expect, it } from 'vitest';
import type { Scenario } from '../../config/index.js';
import { checkStateDir, StateNotOurs } from '../state.js';
import { inPool } from './leases.js';
import { runDirProblem } from './ownership.js';

describe('lease owner records', () => {
  it('hold a run directory exactly <dataDir>/<runId>, or sweep leaves the run alone', () => {
    expect(runDirProblem('/var/lib/swarm-molecule/a1b2c3', '/var/lib/swarm-molecule', 'a1b2c3')).toBeUndefined();
    expect(runDirProblem('/etc', '/var/lib/swarm-molecule', 'a1b2c3')).toMatch(/"\/etc" is not "\/var\/lib\/swarm-molecule\/a1b2c3"/);
    expect(runDirProblem('/var/lib/swarm-molecule/..', '/var/lib/swarm-molecule', '..')).toMatch(/is not a run id/);
    expect(runDirProblem('/var/lib/swarm-molecule', '/var/lib/swarm-molecule', '')).toMatch(/is not a run id/);
  });
});

describe('subnet pools', () => {
  it('hold only their own /24s', () => {
    const subnet = (base: string) => ({ base, gateway: `${base}.1`, prefixLength: 24 as const });
    expect(inPool('10.213.0.0/16', subnet('10.213.7'))).toBe(true);
    expect(inPool('10.213.0.0/16', subnet('10.214.7'))).toBe(false);
    expect(inPool('10.213.0.0/16', subnet('10.213.999'))).toBe(false);
    expect(inPool('bogus', subnet('10.213.7'))).toBe(false);
  });
});

describe('checkStateDir', () => {
  const ctx = (name: string, stateDir: string) => ({ stateDir, scenario: { name } as Scenario });
  it('takes .swarm-molecule/<plain name> only', () => {
    expect(() => checkStateDir(ctx('default', '/p/.swarm-molecule/default'))).not.toThrow();
    expect(() => checkStateDir(ctx('../../b/.swarm-molecule/default', '/b/.swarm-molecule/default'))).toThrow(StateNotOurs);
    expect(() => checkStateDir(ctx('../../b/.swarm-molecule/default', '/b/.swarm-molecule/default'))).toThrow(/at "scenario": ".*" is not a scenario name/);
    expect(() => checkStateDir(ctx('default', '/p/elsewhere/default'))).toThrow(/is not the state directory/);
  });
});
