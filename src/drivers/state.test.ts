import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Scenario } from '../config/index.js';
import { UsageError } from '../errors.js';
import { parseDriverState, serializeDriverState } from './state.js';
import type { DriverContext, DriverState } from './types.js';

const schemas = { run: z.object({ runId: z.string() }), node: z.object({ index: z.number() }) };
const ctx = { stateDir: '/p/.swarm-molecule/default', scenario: { name: 'default' } as Scenario } as DriverContext;
const target = { name: 'n1', host: '10.0.0.11', port: 22, user: 'root', identityFile: '/k' };

describe('driver state', () => {
  it('parses run and node data with the driver\'s schemas, and saves them in the same shape', () => {
    const saved: DriverState = { data: { runId: 'abc123' }, nodes: [{ ...target, data: { index: 0 } }] };
    const state = parseDriverState('netns', schemas, ctx, saved);
    expect(state).toEqual({ run: { runId: 'abc123' }, nodes: [{ ...target, data: { index: 0 } }] });
    expect(serializeDriverState(state)).toEqual(saved);
  });

  it('reads `{}` as a run that has made nothing yet', () => {
    const state = parseDriverState('netns', schemas, ctx, { data: {}, nodes: [] });
    expect(state.run).toBeUndefined();
    expect(serializeDriverState(state)).toEqual({ data: {}, nodes: [] });
  });

  it('refuses data it cannot read, naming the state file, the place and the way out', () => {
    const read = (saved: DriverState) => () => parseDriverState('netns', schemas, ctx, saved);
    expect(read({ data: { runId: 7 }, nodes: [] })).toThrow(UsageError);
    expect(read({ data: { runId: 7 }, nodes: [] })).toThrow(/state file \/p\/\.swarm-molecule\/default\/state\.json holds netns driver data .* \(at "driverState\.data\.runId"/);
    expect(read({ data: { runId: 'a' }, nodes: [{ ...target, data: { index: 'first' } }] })).toThrow(/at "driverState\.nodes\.0\.data\.index"/);
    const thrown = (() => {
      try {
        return read({ data: { old: true }, nodes: [] })();
      } catch (error) {
        return error;
      }
    })();
    expect(thrown).toMatchObject({ hint: 'Run "swarm-molecule reset -s default" to remove what can still be found and start over.' });
  });
});
