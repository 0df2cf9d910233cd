import { describe, expect, it } from 'vitest';
import { nodeFstab } from './node-process.js';

describe('nodeFstab', () => {
  it('mounts the overlay root first and every other mount under it, parents before children', () => {
    const targets = nodeFstab('/data/r1/n1', '/cache/node-1/rootfs')
      .trim()
      .split('\n')
      .map((line) => line.split(' ')[1] ?? '');
    expect(targets[0]).toBe('/data/r1/n1/root');
    expect(targets.every((t) => t.startsWith('/data/r1/n1/root'))).toBe(true);
    expect(targets.indexOf('/data/r1/n1/root/dev')).toBeLessThan(targets.indexOf('/data/r1/n1/root/dev/pts'));
    expect(targets.indexOf('/data/r1/n1/root/sys')).toBeLessThan(targets.indexOf('/data/r1/n1/root/sys/fs/cgroup'));
  });

  it('escapes whitespace in paths as fstab(5) does, so a field never splits', () => {
    const fstab = nodeFstab('/data dir/n1', '/cache/rootfs');
    for (const line of fstab.trim().split('\n')) expect(line.split(' ')).toHaveLength(6);
    expect(fstab).toContain('/data\\040dir/n1/root/proc');
  });
});
