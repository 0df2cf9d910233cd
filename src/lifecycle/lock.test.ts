import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { acquireLock, LockedError } from './lock.js';

describe('acquireLock', () => {
  it('refuses a second holder while the first runs, and frees on release', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-lock-'));
    // A live process other than us holds it: our parent.
    writeFileSync(join(dir, 'lock'), `${process.ppid}\n`);
    await expect(acquireLock(dir, 'default')).rejects.toBeInstanceOf(LockedError);
  });

  it('takes over a lock whose holder no longer runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-lock-'));
    writeFileSync(join(dir, 'lock'), '999999999\n');
    const release = await acquireLock(dir, 'default');
    await release();
    const again = await acquireLock(dir, 'default');
    await again();
  });

  it('refuses a directory in place of the lock, and leaves it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-lock-'));
    mkdirSync(join(dir, 'lock', 'inside'), { recursive: true });
    await expect(acquireLock(dir, 'default')).rejects.toThrow(UsageError);
    expect(existsSync(join(dir, 'lock', 'inside'))).toBe(true);
  });
});
