import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tar } from './tar.js';

describe('tar', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  const archive = () =>
    tar([
      { type: 'dir', path: 'bin' },
      { type: 'file', path: 'bin/tool', content: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
      { type: 'symlink', path: 'bin/sh', target: 'tool' },
      { type: 'dir', path: 'www' },
      { type: 'file', path: 'www/index.html', content: 'swarm-molecule web v1\n' },
      { type: 'file', path: `deep/${'d'.repeat(60)}/${'e'.repeat(60)}/file.txt`, content: 'long path' },
    ]);

  it('is read by GNU tar: names, types, modes, owners and contents', () => {
    const bytes = archive();
    expect(bytes.length % 512).toBe(0);
    dir = mkdtempSync(join(tmpdir(), 'sm-tar-test-'));
    writeFileSync(join(dir, 'a.tar'), bytes);
    const listing = execFileSync('tar', ['-tvf', join(dir, 'a.tar'), '--numeric-owner'], { encoding: 'utf8' });
    expect(listing).toMatch(/^drwxr-xr-x 0\/0\s+0 1970-01-01 00:00 bin\/$/m);
    expect(listing).toMatch(/^-rwxr-xr-x 0\/0\s+18 .* bin\/tool$/m);
    expect(listing).toMatch(/^lrwxrwxrwx 0\/0\s+0 .* bin\/sh -> tool$/m);
    expect(listing).toMatch(/^-rw-r--r-- 0\/0\s+22 .* www\/index.html$/m);
    const out = join(dir, 'out');
    execFileSync('mkdir', [out]);
    execFileSync('tar', ['-xf', join(dir, 'a.tar'), '-C', out]);
    expect(readFileSync(join(out, 'www/index.html'), 'utf8')).toBe('swarm-molecule web v1\n');
    expect(statSync(join(out, 'bin/tool')).mode & 0o777).toBe(0o755);
    expect(readlinkSync(join(out, 'bin/sh'))).toBe('tool');
    expect(readFileSync(join(out, `deep/${'d'.repeat(60)}/${'e'.repeat(60)}/file.txt`), 'utf8')).toBe('long path');
  });

  it('is the same bytes every time (a fixed mtime and owner)', () => {
    expect(archive().equals(archive())).toBe(true);
  });

  it('refuses a name it cannot store', () => {
    expect(() => tar([{ type: 'file', path: 'x'.repeat(120), content: '' }])).toThrow(/too long/);
  });
});
