import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bodyOf, hasInterpreter, testImages, TEST_IMAGES } from './images.js';

describe('hasInterpreter', () => {
  it('tells a static executable from a dynamic one', () => {
    expect(hasInterpreter(readFileSync(process.execPath))).toBe(true);
    if (existsSync('/bin/busybox')) expect(hasInterpreter(readFileSync('/bin/busybox'))).toBe(false);
  });
});

describe.skipIf(!existsSync('/bin/busybox'))('testImages', () => {
  it('builds v1, v2 and broken from fixtures/images and this machine\'s busybox', () => {
    const images = testImages();
    expect([...images.values()].map((i) => i.reference)).toEqual([TEST_IMAGES.v1, TEST_IMAGES.v2, TEST_IMAGES.broken]);
    const v1 = images.get('v1');
    const broken = images.get('broken');
    expect(v1?.changes).toEqual(['CMD ["/bin/busybox","httpd","-f","-p","8080","-h","/www"]', `LABEL io.swarm-molecule.digest=${v1?.digest ?? ''}`]);
    expect(broken?.changes[0]).toMatch(/^CMD \["\/bin\/busybox","sh","-c",".*exit 1"\]$/);
    // Different content, different digests.
    expect(new Set([...images.values()].map((i) => i.digest)).size).toBe(3);

    const dir = mkdtempSync(join(tmpdir(), 'sm-images-test-'));
    try {
      writeFileSync(join(dir, 'v2.tar'), images.get('v2')?.archive ?? Buffer.alloc(0));
      expect(execFileSync('tar', ['-tf', join(dir, 'v2.tar')], { encoding: 'utf8' }).split('\n').filter(Boolean)).toEqual([
        'bin/',
        'bin/busybox',
        'bin/sh',
        'tmp/',
        'www/',
        'www/index.html',
      ]);
      expect(execFileSync('tar', ['-xOf', join(dir, 'v2.tar'), 'www/index.html'], { encoding: 'utf8' }).trim()).toBe(bodyOf('v2'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
