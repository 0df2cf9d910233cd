import { describe, expect, it } from 'vitest';
import { parseLeaseOwner } from './leases.js';

describe('parseLeaseOwner', () => {
  it('reads the typed owner record a lease holds', () => {
    const owner = { driver: 'netns', stateDir: '/p/.swarm-molecule/s', runId: 'a1b2c3', runDir: '/var/lib/swarm-molecule/a1b2c3' };
    expect(parseLeaseOwner(JSON.stringify(owner))).toEqual(owner);
  });

  it('reads the records of earlier versions, so that their runs can still be swept', () => {
    expect(parseLeaseOwner('{"stateDir":"/p/.swarm-molecule/s","runId":"a1b2c3","runDir":"/var/lib/swarm-molecule/a1b2c3"}')).toEqual({
      driver: 'netns',
      stateDir: '/p/.swarm-molecule/s',
      runId: 'a1b2c3',
      runDir: '/var/lib/swarm-molecule/a1b2c3',
    });
    expect(parseLeaseOwner('{"vagrant":{"stateDir":"/p/.swarm-molecule/s","runId":"a1b2c3","dataDir":"/var/lib/sm-vagrant"}}')).toEqual({
      driver: 'vagrant',
      stateDir: '/p/.swarm-molecule/s',
      runId: 'a1b2c3',
      runDir: '/var/lib/sm-vagrant/a1b2c3',
    });
  });

  it('takes nothing else for an owner', () => {
    expect(parseLeaseOwner('/var/lib/swarm-molecule/a1b2c3')).toBeUndefined();
    expect(parseLeaseOwner('{"vagrant":{"stateDir":1}}')).toBeUndefined();
    expect(parseLeaseOwner('{"driver":"netns","stateDir":"/p"}')).toBeUndefined();
  });
});
