import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { logTail } from './log-tail.js';

describe('logTail', () => {
  const dir = mkdtempSync(join(tmpdir(), 'log-tail-'));

  it('gives the last lines of a log', () => {
    const file = join(dir, 'dockerd.log');
    writeFileSync(file, `${Array.from({ length: 5000 }, (_, i) => `line ${i}`).join('\n')}\n`);
    expect(logTail(file, 3)).toBe('line 4997\nline 4998\nline 4999');
  });

  it('says there is no log when the file is missing or empty', () => {
    expect(logTail(join(dir, 'missing.log'))).toBe('(no log)');
    writeFileSync(join(dir, 'empty.log'), '');
    expect(logTail(join(dir, 'empty.log'))).toBe('(no log)');
  });
});
