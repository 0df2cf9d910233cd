import { describe, expect, it } from 'vitest';
import { nodeStatusOf, parseLeaseOwner } from './index.js';

describe('nodeStatusOf', () => {
  it('maps Vagrant machine states of every provider', () => {
    expect(nodeStatusOf('running')).toBe('running');
    for (const state of ['stopped', 'poweroff', 'shutoff', 'saved', 'aborted']) expect(nodeStatusOf(state)).toBe('stopped');
    for (const state of ['not_created', 'host_state_unknown', undefined]) expect(nodeStatusOf(state)).toBe('missing');
  });
});

describe('parseLeaseOwner', () => {
  it('reads the owner a docker provider run writes in its subnet lease', () => {
    expect(parseLeaseOwner('{"vagrant":{"stateDir":"/p/.swarm-molecule/s","runId":"a1b2c3","dataDir":"/var/lib/sm-vagrant"}}')).toEqual({
      stateDir: '/p/.swarm-molecule/s',
      runId: 'a1b2c3',
      dataDir: '/var/lib/sm-vagrant',
    });
  });

  it('leaves the netns driver\'s leases and anything else alone', () => {
    expect(parseLeaseOwner('{"stateDir":"/p/.swarm-molecule/s","runId":"a1b2c3","runDir":"/var/lib/swarm-molecule/a1b2c3"}')).toBeUndefined();
    expect(parseLeaseOwner('/var/lib/swarm-molecule/a1b2c3')).toBeUndefined();
    expect(parseLeaseOwner('{"vagrant":{"stateDir":1}}')).toBeUndefined();
  });
});
