import { describe, expect, it } from 'vitest';
import { nodeStatusOf } from './index.js';

describe('nodeStatusOf', () => {
  it('maps Vagrant machine states of every provider', () => {
    expect(nodeStatusOf('running')).toBe('running');
    for (const state of ['stopped', 'poweroff', 'shutoff', 'saved', 'aborted']) expect(nodeStatusOf(state)).toBe('stopped');
    for (const state of ['not_created', 'host_state_unknown', undefined]) expect(nodeStatusOf(state)).toBe('missing');
  });
});
