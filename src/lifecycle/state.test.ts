import { mkdtempSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { secrets } from '../secrets/index.js';
import { emptyState, StateError, StateStore } from './state.js';

const project = () => mkdtempSync(join(tmpdir(), 'sm-state-'));

describe('StateStore', () => {
  it.each(['../../victim', '/tmp/victim', '..', 'a/b'])('refuses the scenario name %s, which would put its state outside .swarm-molecule/', (name) => {
    expect(() => new StateStore(project(), name)).toThrow(UsageError);
  });

  it('refuses a directory in place of state.json: unreadable, and not removed with what is inside', async () => {
    const store = new StateStore(project(), 'default');
    mkdirSync(join(store.file, 'inside'), { recursive: true });
    await expect(store.read()).rejects.toThrow(StateError);
    await expect(store.remove()).rejects.toThrow(StateError);
    expect(statSync(join(store.file, 'inside')).isDirectory()).toBe(true);
  });

  it('reads nothing before the first write, then what was written', async () => {
    const store = new StateStore(project(), 'default');
    expect(await store.read()).toBeUndefined();
    await store.write({ ...emptyState('default', 'netns'), created: true, lastAction: 'create' });
    expect(await store.read()).toMatchObject({ scenario: 'default', driver: 'netns', created: true, lastAction: 'create' });
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
  });

  it('keeps the last of concurrent writes and never a torn file', async () => {
    const store = new StateStore(project(), 'default');
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.write({ ...emptyState('default', 'netns'), lastError: `write ${i}` })));
    expect((await store.read())?.lastError).toBe('write 19');
  });

  it('masks secrets in what it writes', async () => {
    const store = new StateStore(project(), 'default');
    secrets.add('a-join-token-value-123');
    await store.write({ ...emptyState('default', 'netns'), lastError: 'join with a-join-token-value-123 failed' });
    expect(readFileSync(store.file, 'utf8')).not.toContain('a-join-token-value-123');
  });

  it.each([
    ['not JSON', '{ nope', /corrupt/],
    ['another version', JSON.stringify({ version: 99 }), /another version/],
    ['a damaged field', JSON.stringify({ ...emptyState('default', 'netns'), created: 'yes' }), /damaged \(at "created"\)/],
  ])('refuses %s with a message that says to reset', async (_case, text, message) => {
    const dir = project();
    const store = new StateStore(dir, 'default');
    mkdirSync(store.dir, { recursive: true });
    writeFileSync(store.file, text);
    const error = await store.read().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateError);
    expect((error as StateError).message).toMatch(message);
    expect((error as StateError).hint).toContain('swarm-molecule reset -s default');
  });
});

describe('StateStore, refuse never reset', () => {
  it('a state file that exists but cannot be read is an error naming it and reset, never "no state"', async () => {
    const store = new StateStore(project(), 'default');
    // Unreadable even for root: a directory where the file should be.
    mkdirSync(store.file, { recursive: true });
    const error = await store.read().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateError);
    expect((error as StateError).message).toContain(store.file);
    expect((error as StateError).hint).toContain('swarm-molecule reset -s default');
  });
});
