import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { ensureKeyPair } from './keys.js';

const keyPath = () => join(mkdtempSync(join(tmpdir(), 'sm-key-')), 'ssh', 'id_ed25519');

describe('ensureKeyPair: refuse, never reset', () => {
  it('makes a key when there is none, and returns the same key after', async () => {
    const path = keyPath();
    const made = await ensureKeyPair(path, 'unit');
    expect(await ensureKeyPair(path, 'unit')).toEqual(made);
  });

  it.each([
    ['a missing .pub', (path: string) => rmSync(`${path}.pub`), /\.pub could not be read/],
    ['a missing private key', (path: string) => rmSync(path), /id_ed25519 could not be read/],
    ['a damaged private key', (path: string) => writeFileSync(path, 'garbage\n'), /is not a private key/],
    ['a .pub of another key', (path: string) => writeFileSync(`${path}.pub`, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherOtherOtherOtherOtherOtherOtherOtherOthe x\n'), /does not belong to/],
  ])('%s is an error naming the file and the way out; the private key is untouched', async (_case, damage, message) => {
    const path = keyPath();
    await ensureKeyPair(path, 'unit');
    damage(path);
    const before = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    const error = await ensureKeyPair(path, 'unit').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(message);
    expect((error as UsageError).hint).toMatch(/swarm-molecule reset.*remove .*id_ed25519 and .*id_ed25519\.pub/);
    expect(existsSync(path) ? readFileSync(path, 'utf8') : undefined).toBe(before);
  });
});
