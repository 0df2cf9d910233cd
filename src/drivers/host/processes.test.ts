import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killProcesses, processesTiedTo } from './processes.js';

describe('processesTiedTo', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('finds a process whose command line names a path under the directory, never this process or its ancestors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-ties-'));
    dirs.push(dir);
    const other = mkdtempSync(join(tmpdir(), 'sm-ties-'));
    dirs.push(other);
    const ours = spawn('sh', ['-c', 'sleep 60', 'node-init', join(dir, 'node-1')], { stdio: 'ignore' });
    const theirs = spawn('sh', ['-c', 'sleep 60', 'node-init', join(other, 'node-1')], { stdio: 'ignore' });
    try {
      const found = processesTiedTo({ dir });
      expect(found).toContain(ours.pid);
      expect(found).not.toContain(theirs.pid);
      expect(found).not.toContain(process.pid);
      expect(found).not.toContain(process.ppid);
    } finally {
      await killProcesses([ours.pid ?? -1, theirs.pid ?? -1].filter((pid) => pid > 0));
    }
  });

  it('finds nothing by namespace or cgroup when none of them exist', () => {
    expect(processesTiedTo({ dir: '/nonexistent/sm-ties', netns: ['sm-nonexistent-node'], cgroupPrefix: '/sm-nonexistent-' })).toEqual([]);
  });
});
