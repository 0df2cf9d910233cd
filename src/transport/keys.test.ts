import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from './keys.js';

const hasSshKeygen = (() => {
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    return (error as { status?: number }).status !== undefined && (error as { code?: string }).code !== 'ENOENT';
  }
})();

describe('generateKeyPair', () => {
  it('makes keys that ssh2 parses, with the public key that belongs to the private one', () => {
    for (let i = 0; i < 50; i++) {
      const pair = generateKeyPair('unit');
      const parsed = ssh2.utils.parseKey(pair.privateKey);
      if (parsed instanceof Error) throw parsed;
      expect(`ssh-ed25519 ${parsed.getPublicSSH().toString('base64')} unit`).toBe(pair.publicKey);
    }
  });

  // ssh2's own generator fails this about once in 128 keys; 400 keys would catch it.
  it.runIf(hasSshKeygen)('makes keys that OpenSSH loads, every time', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-keys-'));
    for (let i = 0; i < 400; i++) {
      const pair = generateKeyPair('unit');
      const file = join(dir, `k${i}`);
      writeFileSync(file, pair.privateKey, { mode: 0o600 });
      const loaded = execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).trim().split(' ').slice(0, 2);
      expect(loaded).toEqual(pair.publicKey.split(' ').slice(0, 2));
    }
    // 400 ssh-keygen processes: seconds on a quiet machine, far more on a busy one.
  }, 120_000);
});
