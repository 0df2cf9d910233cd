import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../../src/config/index.js';
import { runSequence } from '../../../src/lifecycle/runner.js';
import { repoRoot } from '../support/cli.js';
import { findLeftovers, leftoversSince, NOTHING_LEFT } from '../support/leaks.js';

const CYCLES = 20;

/** A full collection before each sample, so the heap figures are what is still reachable, not the collector's timing. */
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

describe('20 create / converge / destroy cycles in one harness process', () => {
  it('leave nothing behind and keep the harness memory flat', async () => {
    const project = join(repoRoot, 'fixtures', 'projects', 'small');
    rmSync(join(project, '.swarm-molecule'), { recursive: true, force: true });
    const scenario = await loadScenario(project, 'default');
    const before = findLeftovers();
    const heap: number[] = [];
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const summary = await runSequence(scenario, {
        projectDir: project,
        command: 'cycle',
        sequence: ['create', 'converge', 'destroy'],
        reporter: {},
        signal: new AbortController().signal,
        cleanupSignal: new AbortController().signal,
      });
      expect(summary.status, JSON.stringify(summary.actions)).toBe('passed');
      expect(leftoversSince(before)).toEqual(NOTHING_LEFT);
      collect();
      heap.push(process.memoryUsage().heapUsed);
    }
    // Flat: measured after a full collection, the last cycles use no more heap than the
    // early ones plus 8 MiB. A cycle's own objects (state, pool, ssh2 clients, reporter
    // buffers) are well under 1 MiB; keeping them would add ~13 of them between the two
    // windows, and a leak of 600 KiB or more per cycle exceeds the margin (40 MiB let a
    // 3 MiB-per-cycle leak through).
    const mib = (bytes: number) => bytes / 2 ** 20;
    const early = Math.max(...heap.slice(2, 7));
    const late = Math.max(...heap.slice(-5));
    console.log(`heap MiB by cycle: ${heap.map((h) => mib(h).toFixed(0)).join(' ')}`);
    expect(mib(late - early)).toBeLessThan(8);
  });
});
