import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../errors.js';
import type { DriverContext } from '../types.js';
import { existingDriver } from './index.js';

function contextWith(knownHosts: string): DriverContext {
  const stateDir = mkdtempSync(join(tmpdir(), 'sm-existing-'));
  writeFileSync(join(stateDir, 'known_hosts.json'), knownHosts);
  const scenario = { name: 'default', dir: stateDir, file: join(stateDir, 'scenario.yml'), driver: { name: 'existing', options: {} }, platforms: [] };
  return { scenario, stateDir, signal: new AbortController().signal, log: () => undefined, record: async () => undefined } as unknown as DriverContext;
}

describe('existing driver: recorded host keys', () => {
  it.each([
    ['not JSON', '{ "10.0.0.1:22": '],
    ['not a map of keys', '["ssh-ed25519 AAAA"]'],
  ])('a known_hosts.json that is %s is an error naming it, never "trust everyone again"', async (_case, text) => {
    const ctx = contextWith(text);
    const platform = { name: 'h1', address: '192.0.2.1', groups: [] } as never;
    const error = await existingDriver().create(ctx, [platform], undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toContain(join(ctx.stateDir, 'known_hosts.json'));
    expect((error as UsageError).hint).toMatch(/remove .*known_hosts\.json/);
  });
});
