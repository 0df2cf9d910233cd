import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOCKERD_RESTART_DELAY_ENV, TEST_HOOKS_ENV } from '../../../src/drivers/host/test-hooks.js';
import { repoRoot, swarmMolecule } from '../support/cli.js';
import { findLeftovers, leftoversSince, NOTHING_LEFT } from '../support/leaks.js';

const DELAY_SECONDS = 15;

/** A copy of this repository's default scenario (6 nodes, every built-in verify step) in its own project. */
function copyOfDefaultScenario(name: string): string {
  // Inside the checkout: its steps import 'swarm-molecule', which resolves to this package.
  const project = mkdtempSync(join(repoRoot, `load-test-${name}-`));
  cpSync(join(repoRoot, 'scenarios', 'default'), join(project, 'scenarios', 'default'), { recursive: true });
  return project;
}

/** The clock time of each `── action HH:MM:SS` header of a run's output. */
function headers(output: string, action: string): string[] {
  return [...output.matchAll(new RegExp(`── ${action} +(\\d\\d:\\d\\d:\\d\\d)`, 'g'))].map((m) => m[1] ?? '');
}

describe('under load (real nodes)', () => {
  it("two runs of the default scenario's test at once both pass, one with every restarted node's dockerd 15 s late, and leave nothing", async () => {
    const plain = copyOfDefaultScenario('plain');
    const slow = copyOfDefaultScenario('slow');
    const before = findLeftovers([plain, slow]);
    try {
      const [a, b] = await Promise.all([
        swarmMolecule(['test'], plain),
        swarmMolecule(['test'], slow, { [TEST_HOOKS_ENV]: '1', [DOCKERD_RESTART_DELAY_ENV]: String(DELAY_SECONDS) }),
      ]);
      // The load happened: each run's create began before the other's final destroy.
      const [aCreate, bCreate] = [headers(a.all, 'create')[0] ?? '', headers(b.all, 'create')[0] ?? ''];
      const [aEnd, bEnd] = [headers(a.all, 'destroy').at(-1) ?? '', headers(b.all, 'destroy').at(-1) ?? ''];
      expect(aCreate < bEnd && bCreate < aEnd, `${aCreate}–${aEnd} and ${bCreate}–${bEnd}`).toBe(true);

      // The fault happened: in the slowed run the nodes the failover steps stopped (a worker,
      // then the Leader) were started with their real dockerd held back, and each took at
      // least that long to answer. The plain run was not slowed.
      const restarts = [...b.all.matchAll(/^ +(\S+) +started; SSH and dockerd answered after (\d+\.\d) s/gm)].map((m) => ({ node: m[1] ?? '', seconds: Number(m[2]) }));
      const delayed = [...b.all.matchAll(new RegExp(`^ +(\\S+) +test hook: its dockerd starts ${DELAY_SECONDS} s late`, 'gm'))].map((m) => m[1]);
      expect(restarts.map((r) => r.node).sort(), b.all).toEqual([...delayed].sort());
      expect(restarts.some((r) => r.node.startsWith('worker-')), b.all).toBe(true);
      expect(restarts.some((r) => r.node.startsWith('manager-')), b.all).toBe(true);
      for (const restart of restarts) expect(restart.seconds, `${restart.node}\n${b.all}`).toBeGreaterThanOrEqual(DELAY_SECONDS);
      console.log(`restarts with dockerd ${DELAY_SECONDS} s late: ${restarts.map((r) => `${r.node} ${r.seconds} s`).join(', ')}`);
      expect(a.all).not.toMatch(/test hook/);

      // Both runs passed every action, the failover steps included.
      for (const [run, output] of [['plain', a.all], ['slow', b.all]] as const) {
        for (const action of ['destroy', 'syntax', 'create', 'converge', 'idempotence', 'lint', 'verify']) {
          expect(output, run).toMatch(new RegExp(`^ {2}${action}\\s+passed`, 'm'));
        }
        for (const step of ['failover-workers', 'failover-leader']) expect(output, run).toMatch(new RegExp(`passed\\s+swarm/${step}`));
      }
      expect(a.exitCode, a.all).toBe(0);
      expect(b.exitCode, b.all).toBe(0);
    } finally {
      // Nothing of either run is left (only their run ids are looked at: other runs on the machine are not theirs).
      const leftovers = leftoversSince(before);
      for (const project of [plain, slow]) {
        await swarmMolecule(['destroy'], project);
        rmSync(project, { recursive: true, force: true });
      }
      expect(leftovers).toEqual(NOTHING_LEFT);
    }
  });
});
